import type { Command } from 'commander';
import { parseAssignments, parseWhole } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { delay } from '../delay.ts';
import { CliError, EXIT } from '../errors.ts';
import { formatTable } from '../output.ts';
import type { GatewayView } from '../resources.ts';

const weightsTable = (g: GatewayView) =>
  formatTable(
    ['route', 'weight'],
    Object.entries(g.routes).map(([route, r]) => [route, `${r.weight}%`]),
  );

/** Whether the gateway's current revision is ours or a later one (someone else's change supersedes ours, and includes it). */
function atOrAfter(current: string, ours: string): boolean {
  const [c, o] = [Number(current), Number(ours)];
  return current === ours || (Number.isFinite(c) && Number.isFinite(o) && c >= o);
}

export function registerWeights(program: Command, ctx: CommandContext): void {
  program
    .command('weights')
    .description("Set a gateway's route weights (absolute whole percentages; unlisted routes keep theirs)")
    .argument('<gateway>', 'the gateway')
    .argument('<route=weight...>', 'e.g. stable=90 canary=10')
    .option('--wait', "wait until every live agent serves the new revision (the gateway's status says live)")
    .option('--timeout <ms>', 'how long --wait waits', '60000')
    .action(async (gateway: string, items: string[], opts: { wait?: boolean; timeout: string }) => {
      const weights = parseAssignments('weights', items, (raw, route) => parseWhole(`weights ${route}`, raw, 0, 100));
      const timeoutMs = parseWhole('--timeout', opts.timeout, 1);
      const client = await ctx.client();
      const g = await ctx.send(client.PUT('/api/v1/gateways/{name}/weights', { params: { path: { name: gateway } }, body: weights }));
      ctx.print(g, () => `gateway ${g.name} revision ${g.revision}\n${weightsTable(g)}`);
      if (!opts.wait) return;
      // The API has no blocking wait for gateways: poll its status (agents report what they applied).
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await ctx.send(client.GET('/api/v1/gateways/{name}/status', { params: { path: { name: gateway } } }));
        if (s.live && atOrAfter(s.revision, g.revision)) {
          if (ctx.format() === 'table') ctx.err(`revision ${s.revision} is live on ${s.agents.length} agent(s)`);
          return;
        }
        if (Date.now() >= deadline) {
          const why = s.agents.length === 0 ? 'no gateway agent has reported' : `agents not on revision ${s.revision} yet`;
          throw new CliError(`gateway ${gateway}: revision ${g.revision} not live after ${timeoutMs} ms (${why})`, EXIT.failed);
        }
        await delay(500, ctx.signal);
      }
    });
}
