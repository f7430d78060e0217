import type { AgentGatewayStatus, AgentStatus } from '../../engine/domain/gateways/keys.ts';
import type { StoredGateway } from './gateway-watcher.ts';
import type { RenderableGateway } from './render.ts';

/**
 * Everything the gateway agent remembers between reconcile passes, in one place (the shape of
 * argo-rollouts' rollout/context.go): the modules by concern (reconcile.ts, runtime-apply.ts,
 * reload.ts, agent-status.ts) read and write these fields and keep nothing of their own, so
 * this file is the whole answer to "what can change under me".
 *
 * Only one reconcile pass runs at a time (reconcile-loop.ts); the watcher, the heartbeat and
 * the status reporter touch the fields named in their comments between passes.
 */
export interface AgentState {
  /**
   * The gateways the store holds now (name → raw value and KV revision). Replaced as a whole
   * by the watcher on every list and change, so a pass — and a revert in the middle of one —
   * always sees the newest revisions, never a half-updated map.
   */
  desired: ReadonlyMap<string, StoredGateway>;
  /**
   * What HAProxy serves now, per gateway. The base every pass diffs against (runtime change
   * or reload), the version a gateway falls back to when its new one fails, and what the
   * status reports as applied. Replaced, never mutated, and only once HAProxy took a change.
   */
  applied: Map<string, AppliedGateway>;
  /**
   * What `agents/<id>` says about each gateway. Kept across passes so `appliedAt` stays the
   * time a revision first went live, and a failure stays reported until a newer revision
   * applies or the gateway is gone.
   */
  gateways: Map<string, AgentGatewayStatus>;
  /** Store reachability, for the status: set by the watcher (list/watch) and by each status write. */
  kv: AgentStatus['kv'];
  /**
   * HAProxy facts for the status: running/pid refreshed before each write, the last reload
   * and its error set by the reload, `serverChanges` counted by the runtime apply.
   */
  haproxy: HaproxyFacts;
  /** This agent started HAProxy (rather than adopting one left running): `stopHaproxy: 'auto'` stops only such a one. */
  startedHaproxy: boolean;
  /**
   * The next pass must reload even if only weights or servers changed: HAProxy died (a
   * restart loads the config file) or was adopted (it serves a previous agent's config, not
   * `applied`). Cleared by a successful reload.
   */
  forceReload: boolean;
  /**
   * Ports an adopted HAProxy listens on: the reload takes them over, so the pre-check must
   * not call them busy. Cleared by the first successful reload.
   */
  adoptedPorts: Set<number>;
  /** Set by close(): loops and waits stop at their next check instead of starting new work. */
  closed: boolean;
}

/** HAProxy facts in the status, the watchdog's restarts included (haproxy-watchdog.ts). */
export type HaproxyFacts = AgentStatus['haproxy'];

/** A gateway version rendered for HAProxy: validated, targets resolved, config text ready. */
export interface AppliedGateway extends RenderableGateway {
  /** KV revision this version was built from. */
  revision: string;
  /** Its frontend and backends (renderGateway). */
  text: string;
  /** Everything but weights and route servers: equal skeletons can be applied at runtime. */
  skeleton: string;
  /** Routes with no server (their targets resolved to nothing): reported; with no other route to take their share, they answer 503. */
  routesWithoutTargets: string[];
  /** Of those, the routes whose weight is served as 0 meanwhile (candidates.ts holdEmptyRoutes); `gateway` holds the served weights. */
  routesHeld: string[];
}

/** Why a gateway's newest revision is not served (the previous one, if any, keeps serving). */
export interface GatewayFailure {
  revision: string;
  error: string;
}

export function createAgentState(kvKind: string): AgentState {
  return {
    desired: new Map(),
    applied: new Map(),
    gateways: new Map(),
    kv: { kind: kvKind, connected: false },
    haproxy: { running: false, reloads: 0, serverChanges: 0 },
    startedHaproxy: false,
    forceReload: false,
    adoptedPorts: new Set(),
    closed: false,
  };
}
