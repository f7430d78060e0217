import type { KvStore } from '../ports/kv-store.ts';
import { AGENTS_PREFIX, MISSED_HEARTBEATS, type AgentStatus } from '../domain/gateways/keys.ts';

/** Whether a gateway's stored revision is what HAProxy serves, per the agents' status keys. */
export interface GatewayStatus {
  name: string;
  revision: string;
  /** True when at least one live agent serves the current revision and none serves an older one. */
  live: boolean;
  agents: Array<{
    agentId: string;
    heartbeatAt: string;
    alive: boolean;
    appliedRevision?: string;
    appliedAt?: string;
    current: boolean;
    error?: string;
    routesWithoutTargets?: string[];
    routesHeld?: string[];
  }>;
}

/** Alive: heard from within MISSED_HEARTBEATS of its own heartbeat interval, plus a second of clock skew. */
export const agentAlive = (s: Pick<AgentStatus, 'heartbeatAt' | 'heartbeatIntervalMs'>, nowMs: number): boolean =>
  nowMs - Date.parse(s.heartbeatAt) <= MISSED_HEARTBEATS * (s.heartbeatIntervalMs || 5000) + 1000;

/**
 * Reads every `agents/<id>` key and reports what each agent serves of gateway `name` (stored
 * at `revision`). An agent counts as alive for MISSED_HEARTBEATS of its own heartbeat
 * interval plus a second of clock skew; unreadable status keys are skipped.
 */
export async function readGatewayStatus(kv: KvStore, name: string, revision: string, now: Date): Promise<GatewayStatus> {
  const t = now.getTime();
  const agents: GatewayStatus['agents'] = [];
  for (const s of await readAgentStatuses(kv)) {
    const alive = agentAlive(s, t);
    // Own keys only: 'constructor' is a valid gateway name.
    const gs = s.gateways && Object.hasOwn(s.gateways, name) ? s.gateways[name] : {};
    agents.push({
      agentId: s.agentId,
      heartbeatAt: s.heartbeatAt,
      alive,
      appliedRevision: gs.appliedRevision,
      appliedAt: gs.appliedAt,
      current: gs.appliedRevision === revision,
      ...(gs.error ? { error: gs.error } : {}),
      ...(gs.routesWithoutTargets?.length ? { routesWithoutTargets: gs.routesWithoutTargets } : {}),
      ...(gs.routesHeld?.length ? { routesHeld: gs.routesHeld } : {}),
    });
  }
  agents.sort((a, b) => a.agentId.localeCompare(b.agentId));
  const living = agents.filter((a) => a.alive);
  return { name, revision, live: living.length > 0 && living.every((a) => a.current), agents };
}

/** One gateway agent as the Overview lists it: alive or not, its HAProxy, what it serves of each gateway. */
export interface AgentSummary {
  agentId: string;
  heartbeatAt: string;
  alive: boolean;
  haproxyRunning: boolean;
  /** Gateway name → the revision it serves (and why the newest could not be applied, if so). */
  gateways: Record<string, { appliedRevision?: string; error?: string }>;
}

/** Every agent that has reported (alive or not, newest heartbeat first); unreadable status keys are skipped. */
export async function readAgents(kv: KvStore, now: Date): Promise<AgentSummary[]> {
  const out: AgentSummary[] = [];
  for (const s of await readAgentStatuses(kv)) {
    const gateways: AgentSummary['gateways'] = {};
    for (const [name, g] of Object.entries(s.gateways ?? {}))
      gateways[name] = { ...(g.appliedRevision ? { appliedRevision: g.appliedRevision } : {}), ...(g.error ? { error: g.error } : {}) };
    out.push({ agentId: s.agentId, heartbeatAt: s.heartbeatAt, alive: agentAlive(s, now.getTime()), haproxyRunning: s.haproxy?.running === true, gateways });
  }
  return out.sort((a, b) => b.heartbeatAt.localeCompare(a.heartbeatAt));
}

/**
 * Every `agents/<id>` status key that parses and names its agent and heartbeat: the agents
 * write them, but a key another tool wrote (or a torn value) must not break a status page.
 */
async function readAgentStatuses(kv: KvStore): Promise<AgentStatus[]> {
  const { entries } = await kv.list(AGENTS_PREFIX);
  const out: AgentStatus[] = [];
  for (const e of entries) {
    try {
      const s = JSON.parse(e.value) as AgentStatus;
      if (typeof s?.agentId === 'string' && typeof s.heartbeatAt === 'string') out.push(s);
    } catch {
      // unreadable: skipped
    }
  }
  return out;
}
