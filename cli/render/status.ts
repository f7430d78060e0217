import { formatTable, paint, relativeTime } from '../output.ts';
import { fields, section, yesNo } from './text.ts';

export interface ReadyCheck {
  ok: boolean;
  detail?: string;
}

/** One gateway agent, seen in the status of every gateway. */
export interface AgentSummary {
  agentId: string;
  alive: boolean;
  heartbeatAt: string;
  /** Gateways whose current revision it serves. */
  serving: string[];
  /** Gateways it serves an older revision of (or none yet). */
  behind: string[];
}

/** What `veer status` reports (also its -o json shape); never the token. */
export interface StatusReport {
  api: { url: string; source: string };
  ready: boolean;
  checks: Record<string, ReadyCheck>;
  agents: AgentSummary[];
  agentsError?: string;
}

export function describeStatus(r: StatusReport): string {
  let out = fields([
    ['API', `${r.api.url} (from ${r.api.source})`],
    ['Ready', r.ready ? paint('green', 'yes') : paint('red', 'no')],
  ]);
  out += section(
    'Checks',
    formatTable(
      ['CHECK', 'OK', 'DETAIL'],
      Object.entries(r.checks).map(([name, c]) => [name, c.ok ? 'yes' : paint('red', 'no'), c.detail]),
    ),
  );
  out += section(
    'Gateway agents',
    r.agentsError
      ? `unavailable: ${r.agentsError}`
      : r.agents.length
        ? formatTable(
            ['AGENT', 'ALIVE', 'LAST HEARTBEAT', 'SERVING', 'BEHIND'],
            r.agents.map((a) => [a.agentId, yesNo(a.alive), relativeTime(a.heartbeatAt), a.serving.join(','), a.behind.join(',')]),
          )
        : 'none reported (no gateway, or no agent has applied one)',
  );
  return out;
}
