/**
 * KV layout (all under the KvStore's own prefix, e.g. `/veer/` for etcd):
 *
 *   gateways/<name>     JSON `Gateway` (model.ts): the normalised spec + updatedAt. The KV
 *                       entry revision is the gateway's `revision`; it is never stored inside.
 *   agents/<agentId>    JSON `AgentStatus` below, rewritten by each gateway agent every
 *                       heartbeat (with a TTL where the store supports it).
 */
/** List/watch prefixes: whole segments, no trailing '/' (the KV port's rule). */
export const GATEWAYS_PREFIX = 'gateways';
export const AGENTS_PREFIX = 'agents';

export const gatewayKey = (name: string) => `${GATEWAYS_PREFIX}/${name}`;
export const agentKey = (agentId: string) => `${AGENTS_PREFIX}/${agentId}`;

/** What one agent reports about one gateway. */
export interface AgentGatewayStatus {
  /** KV revision of the gateway that HAProxy is serving now. */
  appliedRevision?: string;
  appliedAt?: string;
  /** Set when the newest revision could not be applied; the previous one keeps serving. */
  error?: string;
  failedRevision?: string;
  /** Routes whose targets did not resolve to any server. */
  routesWithoutTargets?: string[];
  /** Of those, the routes served at weight 0 until their first server (their share goes to the routes with servers; otherwise they would answer 503). */
  routesHeld?: string[];
}

export interface AgentStatus {
  agentId: string;
  heartbeatAt: string;
  heartbeatIntervalMs: number;
  startedAt: string;
  kv: { kind: string; connected: boolean; lastError?: string; lastErrorAt?: string };
  haproxy: {
    pid?: number;
    running: boolean;
    reloads: number;
    /** Route servers added or removed through the runtime API (without a reload) since the agent started. */
    serverChanges?: number;
    lastReloadAt?: string;
    lastError?: string;
    /** Times the agent restarted an HAProxy that died (adapters/gateway-agent/haproxy-watchdog.ts). */
    restarts?: number;
    lastExitAt?: string;
    /** Set while a restart waits out its back-off (HAProxy kept dying right after restarts). */
    restartPendingMs?: number;
  };
  gateways: Record<string, AgentGatewayStatus>;
  /**
   * `host:port` of HAProxy's Prometheus exporter (GET /metrics) when VEER_GATEWAY_AGENT_PROMETHEUS_PORT
   * is set; its series name a route as `proxy="r.<gateway>.<route>"` (adapters/gateway-agent/render.ts).
   */
  exporter?: string;
}

/** An agent is considered gone after missing this many heartbeats. */
export const MISSED_HEARTBEATS = 3;
