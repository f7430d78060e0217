import type { Command } from 'commander';
import type { CommandContext } from '../context.ts';
import { relativeTime } from '../output.ts';

/** `veer pause` and `veer resume`: a workflow's triggers stop and restart (manual runs always work). */
export function registerPause(program: Command, ctx: CommandContext): void {
  program
    .command('pause')
    .description("Pause a workflow's triggers (cron, events, signals); manual runs still start")
    .argument('<workflow>', 'the workflow')
    .option('--reason <text>', 'why, shown with the workflow')
    .action(async (workflow: string, opts: { reason?: string }) => {
      const client = await ctx.client();
      const wf = await ctx.send(
        client.POST('/api/v1/workflows/{name}/pause', { params: { path: { name: workflow } }, body: opts.reason ? { reason: opts.reason } : {} }),
      );
      const p = wf.paused;
      ctx.print(wf, () => `workflow ${workflow} paused by ${p?.by ?? '?'} ${relativeTime(p?.at)}${p?.reason ? `: ${p.reason}` : ''}`);
    });
  program
    .command('resume')
    .description("Resume a paused workflow's triggers (those refused while paused are not replayed)")
    .argument('<workflow>', 'the workflow')
    .action(async (workflow: string) => {
      const client = await ctx.client();
      const wf = await ctx.send(client.POST('/api/v1/workflows/{name}/resume', { params: { path: { name: workflow } } }));
      ctx.print(wf, () => `workflow ${workflow} resumed`);
    });
}
