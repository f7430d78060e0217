import { Cluster, Redis, type RedisOptions } from 'ioredis';

/**
 * Which Redis an installation uses: one server (VEER_REDIS_URL), a Redis Cluster
 * (VEER_REDIS_CLUSTER_NODES, seed nodes: the rest is discovered) or a Sentinel-managed master
 * (VEER_REDIS_SENTINELS + VEER_REDIS_SENTINEL_NAME). Credentials and TLS apply to the data
 * nodes in every mode (for one server they may also sit in the URL).
 */
export type RedisTarget =
  | { mode: 'single'; url: string; auth?: RedisAuth }
  | { mode: 'cluster'; nodes: HostPort[]; auth?: RedisAuth }
  | { mode: 'sentinel'; sentinels: HostPort[]; name: string; auth?: RedisAuth; sentinelPassword?: string };

export interface RedisAuth {
  username?: string;
  password?: string;
  tls?: boolean;
}

export interface HostPort {
  host: string;
  port: number;
}

export function singleRedis(url: string): RedisTarget {
  return { mode: 'single', url };
}

/** How logs, errors and `/api/v1/status` name the target: never with a password. */
export function describeRedisTarget(t: RedisTarget): string {
  const list = (hs: HostPort[]) => hs.map((h) => `${h.host}:${h.port}`).join(',');
  if (t.mode === 'cluster') return `redis-cluster://${list(t.nodes)}`;
  if (t.mode === 'sentinel') return `redis-sentinel://${t.name}@${list(t.sentinels)}`;
  try {
    const u = new URL(t.url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://(unparseable url)';
  }
}

/** "h1:p1,h2:p2" → host/port pairs; throws naming the variable on a malformed entry. */
export function parseHostPorts(variable: string, value: string): HostPort[] {
  const out = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d{1,5})$/.exec(entry);
      const port = m ? Number(m[2]) : NaN;
      if (!m || port < 1 || port > 65535) throw new Error(`${variable}: '${entry}' is not host:port`);
      return { host: m[1].replace(/^\[|\]$/g, ''), port };
    });
  if (!out.length) throw new Error(`${variable}: give at least one host:port`);
  return out;
}

/**
 * A connection to the target. A Cluster is returned typed as `Redis`: it speaks the same
 * commands and routes each by its key's slot, and every store keeps its multi-key
 * operations inside one hash tag (keys.ts), so the stores need not know which they hold.
 * The few things that differ (SCAN, duplicate) are handled in scan.ts and connection.ts.
 */
export function connectRedis(t: RedisTarget, options: RedisOptions = {}): Redis {
  const auth = {
    ...(t.auth?.username ? { username: t.auth.username } : {}),
    ...(t.auth?.password ? { password: t.auth.password } : {}),
    ...(t.auth?.tls ? { tls: {} } : {}),
  };
  if (t.mode === 'single') return new Redis(t.url, { ...options, ...auth });
  if (t.mode === 'sentinel') {
    return new Redis({
      ...options,
      ...auth,
      sentinels: t.sentinels,
      name: t.name,
      ...(t.sentinelPassword ? { sentinelPassword: t.sentinelPassword } : {}),
      ...(t.auth?.tls ? { sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
    });
  }
  const { enableOfflineQueue, retryStrategy, ...redisOptions } = options;
  const cluster = new Cluster(t.nodes, {
    redisOptions: { ...redisOptions, ...auth },
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) ?? null } : {}),
    // A failover moves slots: re-ask the topology soon and keep redirecting meanwhile.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 2000,
  });
  return cluster as unknown as Redis;
}

export function isCluster(client: Redis): boolean {
  return (client as unknown) instanceof Cluster;
}

/**
 * The masters of a cluster (SCAN and other per-node commands must visit each), or the client
 * itself. A cluster client knows its nodes only once it has read the slot map, so a first
 * command (queued until then) comes before the answer.
 */
export async function dataNodes(client: Redis): Promise<Redis[]> {
  if (!isCluster(client)) return [client];
  const cluster = client as unknown as Cluster;
  if (cluster.status !== 'ready') await cluster.ping();
  return cluster.nodes('master');
}
