import type { Command } from 'commander';
import { apiError, unreachable } from '../client.ts';
import type { CommandContext } from '../context.ts';
import { FAN_OUT, mapLimit } from '../map-limit.ts';
import { CliError, EXIT } from '../errors.ts';
import { describeStatus, type StatusReport, type AgentSummary, type ReadyCheck } from '../render/status.ts';
import { gatewayStatus, listGateways } from '../resources.ts';

/** GET /readyz: 200 when ready, 503 with the same body when not; both are answers, not errors. */
async function readiness(ctx: CommandContext): Promise<{ ok: boolean; checks: Record<string, ReadyCheck> }> {
  const conn = await ctx.connection();
  const c = await ctx.client();
  const res = await c.GET('/readyz').catch((err: unknown) => {
    throw unreachable(conn.url, err);
  });
  const body = (res.data ?? res.error) as { ok?: boolean; checks?: Record<string, ReadyCheck> } | undefined;
  if ((res.response.status !== 200 && res.response.status !== 503) || typeof body?.ok !== 'boolean') throw apiError(res.response.status, res.error);
  return { ok: body.ok, checks: body.checks ?? {} };
}

/**
 * The gateway agents, from every gateway's status (the API has no list of agents): one row per
 * agent id, with its latest heartbeat and the gateways whose current revision it serves.
 */
async function agents(ctx: CommandContext): Promise<{ agents: AgentSummary[]; error?: string }> {
  try {
    const gateways = await listGateways(ctx);
    const statuses = await mapLimit(gateways, FAN_OUT, (g) => gatewayStatus(ctx, g.name));
    const byId = new Map<string, AgentSummary>();
    for (const s of statuses) {
      for (const a of s.agents) {
        const seen = byId.get(a.agentId) ?? { agentId: a.agentId, alive: a.alive, heartbeatAt: a.heartbeatAt, serving: [], behind: [] };
        if (Date.parse(a.heartbeatAt) > Date.parse(seen.heartbeatAt)) Object.assign(seen, { heartbeatAt: a.heartbeatAt, alive: a.alive });
        (a.current ? seen.serving : seen.behind).push(s.name);
        byId.set(a.agentId, seen);
      }
    }
    return { agents: [...byId.values()].sort((a, b) => a.agentId.localeCompare(b.agentId)) };
  } catch (err) {
    if (err instanceof CliError && err.exitCode === EXIT.unreachable) throw err;
    // Readiness is the answer asked for; agents that cannot be listed are said, not fatal.
    return { agents: [], error: (err as Error).message };
  }
}

export function registerStatus(program: Command, ctx: CommandContext): void {
  program
    .command('status')
    .description('Is Veer ready? Its checks (Redis, engines), the gateway agents, and which API this talks to')
    .addHelpText('after', '\nExit codes: 0 ready, 1 not ready (the failing checks are named), 5 the API does not answer.')
    .action(async () => {
      const conn = await ctx.connection();
      const ready = await readiness(ctx);
      const found = await agents(ctx);
      const report: StatusReport = {
        api: { url: conn.url, source: conn.source },
        ready: ready.ok,
        checks: ready.checks,
        agents: found.agents,
        ...(found.error ? { agentsError: found.error } : {}),
      };
      ctx.print(report, () => describeStatus(report));
      if (!ready.ok) {
        const failing = Object.entries(ready.checks)
          .filter(([, c]) => !c.ok)
          .map(([name, c]) => `${name}${c.detail ? `: ${c.detail}` : ''}`);
        throw new CliError(`not ready: ${failing.join('; ') || 'the API says so without naming a check'}`, EXIT.failed);
      }
    });
}
