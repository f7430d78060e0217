import type { Command } from 'commander';
import { parseWhole } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { formatTable, paintStatus } from '../output.ts';

export function registerScale(program: Command, ctx: CommandContext): void {
  program
    .command('scale')
    .description('Scale a deployment to a number of instances')
    .argument('<deployment>', 'the deployment')
    .argument('<instances>', 'desired instances (0 or more)')
    .option('--wait', 'wait until the rollout is ready (exit 1 when it is not in time)')
    .option('--timeout <ms>', 'how long --wait waits (default: the API maximum, 2 minutes)')
    .action(async (deployment: string, rawInstances: string, opts: { wait?: boolean; timeout?: string }) => {
      const instances = parseWhole('instances', rawInstances, 0, 10_000);
      const timeoutMs = opts.timeout === undefined ? undefined : parseWhole('--timeout', opts.timeout, 1);
      const client = await ctx.client();
      const d = await ctx.send(
        client.PUT('/api/v1/deployments/{name}/scale', {
          params: { path: { name: deployment }, query: { ...(opts.wait ? { wait: 'true' as const } : {}), ...(timeoutMs ? { timeoutMs } : {}) } },
          body: { instances },
        }),
      );
      ctx.print(d, () => formatTable(['name', 'desired', 'ready', 'status'], [[d.name, d.desiredInstances, d.readyInstances, paintStatus(d.status)]]));
    });
}
