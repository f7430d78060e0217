import type { Command } from 'commander';
import { parseJsonFlag } from '../args.ts';
import type { CommandContext } from '../context.ts';

export function registerSignal(program: Command, ctx: CommandContext): void {
  program
    .command('signal')
    .description("Send a signal to a workflow's runs (the canary understands promote, promote-full, abort)")
    .argument('<workflow>', 'the workflow')
    .argument('<signal>', 'promote, abort, or any name its script takes')
    .option('--value <json>', 'a JSON value handed to the run with the signal')
    .action(async (workflow: string, name: string, opts: { value?: string }) => {
      const value = parseJsonFlag('--value', opts.value);
      const client = await ctx.client();
      const res = await ctx.send(
        client.POST('/api/v1/workflows/{name}/signals', { params: { path: { name: workflow } }, body: { name, ...(value !== undefined ? { value } : {}) } }),
      );
      ctx.print(res, () => {
        const head = `signal ${res.signal.name} sent to ${workflow} (${res.signal.id})`;
        if (res.run) return `${head}; started run ${res.run.id} (veer logs -f ${res.run.id})`;
        if (res.skipped) return `${head}; no run started (${res.skipped})`;
        // Without `trigger.signals: true` the inbox waits for the next run to take it.
        return `${head}; no run started: the workflow's next run takes it`;
      });
    });
}
