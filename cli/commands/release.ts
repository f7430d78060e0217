import type { Command } from 'commander';
import { parseInterval } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { formatData } from '../output.ts';
import { renderRelease, type CanaryHistoryEntry, type CanaryRelease, type WorkflowInfo } from '../render/release.ts';
import { watch } from '../watch.ts';

export function registerRelease(program: Command, ctx: CommandContext): void {
  const release = program.command('release').description('Follow a canary release (the built-in canary-release workflow)');
  release
    .command('status')
    .description("A canary's phase, step and weight, and its history of checks (STEP WEIGHT VERDICT ERROR-RATE P99 SAMPLES AT); -o json: its state")
    .argument('<workflow>', 'the canary-release workflow')
    .option('-w, --watch', 'show it again every --interval until Ctrl-C')
    .option('--interval <duration>', 'how often --watch refreshes (2s, 500ms, 1m)', '2s')
    .action(async (workflow: string, opts: { watch?: boolean; interval: string }) => {
      const intervalMs = parseInterval('--interval', opts.interval);
      const client = await ctx.client();
      const path = { name: workflow };
      const render = async () => {
        // The workflow for STEPS (step n/total) and whether its triggers are paused; the state for the release.
        const [wf, { state }] = await Promise.all([
          ctx.send(client.GET('/api/v1/workflows/{name}', { params: { path } })),
          ctx.send(client.GET('/api/v1/workflows/{name}/state', { params: { path } })),
        ]);
        const format = ctx.format();
        if (format !== 'table') return formatData(state, format);
        const r = state.release as CanaryRelease | undefined;
        if (!r || typeof r !== 'object')
          return `workflow ${workflow} has no release state yet: a canary-release workflow records it on its first run (veer run ${workflow})\n`;
        const history = Array.isArray(state.history) ? (state.history as CanaryHistoryEntry[]) : [];
        return renderRelease(workflow, r, history, wf as WorkflowInfo);
      };
      if (opts.watch) await watch(render, { intervalMs, signal: ctx.signal });
      else ctx.out(await render());
    });
}
