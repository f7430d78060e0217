import type { AgentGatewayStatus, AgentStatus } from '../../engine/domain/gateways/keys.ts';
import { errorText, type AgentContext } from './agent-context.ts';
import type { AgentState, GatewayFailure } from './agent-state.ts';

/**
 * The agent's status as `agents/<id>` reports it (status-reporter.ts writes it): what each
 * gateway serves and why a newer revision is not, store reachability, HAProxy facts.
 */

/** After a pass: gateways gone from both the store and HAProxy drop out; applied ones and failures are updated. */
export function recordOutcome(ctx: AgentContext, failures: Map<string, GatewayFailure>): void {
  const { state, log } = ctx;
  const now = new Date().toISOString();
  for (const name of [...state.gateways.keys()]) if (!state.desired.has(name) && !state.applied.has(name)) state.gateways.delete(name);
  for (const [name, a] of state.applied) {
    const prev = state.gateways.get(name);
    const s: AgentGatewayStatus = {
      appliedRevision: a.revision,
      appliedAt: prev?.appliedRevision === a.revision ? prev.appliedAt : now,
      ...(a.routesWithoutTargets.length ? { routesWithoutTargets: a.routesWithoutTargets } : {}),
      ...(a.routesHeld.length ? { routesHeld: a.routesHeld } : {}),
    };
    state.gateways.set(name, s);
  }
  for (const [name, f] of failures) {
    state.gateways.set(name, { ...(state.gateways.get(name) ?? {}), error: f.error, failedRevision: f.revision });
    log.warn({ gateway: name, revision: f.revision, error: f.error }, 'gateway not applied');
  }
}

/**
 * Records whether the store answered. Returns true when it just came back (it was down), so
 * the caller can start the watch over if the watch did not notice the outage.
 */
export function recordKvConnection(state: AgentState, connected: boolean, err?: unknown): boolean {
  const wasDown = !state.kv.connected;
  state.kv.connected = connected;
  if (!connected) {
    state.kv.lastError = errorText(err);
    state.kv.lastErrorAt = new Date().toISOString();
  }
  return wasDown && connected;
}

/** A copy of the status at this moment (callers may keep it; the state goes on changing). */
export function snapshotStatus(
  state: AgentState,
  o: { agentId: string; heartbeatMs: number; startedAt: string; reloads: number; exporter?: string },
): AgentStatus {
  return {
    agentId: o.agentId,
    // Announced so Veer's service discovery (GET /api/v1/prometheus/targets) can list it.
    ...(o.exporter ? { exporter: o.exporter } : {}),
    heartbeatAt: new Date().toISOString(),
    heartbeatIntervalMs: o.heartbeatMs,
    startedAt: o.startedAt,
    kv: { ...state.kv },
    haproxy: { ...state.haproxy, reloads: o.reloads },
    gateways: Object.fromEntries(state.gateways),
  };
}
