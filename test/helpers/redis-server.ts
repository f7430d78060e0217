import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { dataNodes, type RedisTarget } from '../../adapters/redis/target.ts';
import { requireInstalled } from '../setup/services.ts';
import { freePort } from './free-port.ts';
import { startProcess, tempDir, type ServiceProcess } from './process.ts';
import { waitFor } from './wait-for.ts';

export interface TestRedis {
  /** The server's URL; under the cluster tier only a label (use `env` and `client()`). */
  url: string;
  port: number;
  /** What a Veer process needs to reach it: VEER_REDIS_URL, or VEER_REDIS_CLUSTER_NODES under the cluster tier. */
  env: Record<string, string>;
  /** The same for the adapters (createRedisBackend, createRedisKvStore). */
  target: RedisTarget;
  /** A raw client for tests that look at keys themselves (a Cluster client under the cluster tier); the caller disconnects it. */
  client(options?: RedisOptions): Redis;
  /** Stops the server and removes its data directory. */
  stop: () => Promise<void>;
}

/**
 * The cluster tier (test/cluster/tier.test.ts) runs suites with this set to a Redis
 * Cluster's seed nodes: `startRedis()` then hands out that shared cluster (each system a
 * random key prefix) instead of a private server, so the same tests prove both.
 */
export const CLUSTER_TIER_ENV = 'VEER_TEST_REDIS_CLUSTER_NODES';

export interface PersistentRedis extends TestRedis {
  /** Stops the server, keeping its data: the outage. */
  down(): Promise<void>;
  /** Starts it again on the same port from the same data (AOF, fsync always). */
  up(): Promise<void>;
}

/**
 * Starts a private redis-server on a free loopback port (or `port`, to bring one back after
 * an outage) with a temp data dir, so a test never touches (or depends on) the shared Redis on 6379.
 * Fails at once, naming redis-server, when it is not installed or exits instead of serving.
 */
/** `own`: a private server even under the cluster tier (a test that stops it, or counts every key). */
export async function startRedis(options: { port?: number; own?: boolean } = {}): Promise<TestRedis> {
  const nodes = process.env[CLUSTER_TIER_ENV];
  // Shared by the whole tier; its runner stops it.
  if (nodes && options.port === undefined && !options.own) return onCluster(nodes);
  return startServer(options.port, false);
}

const hostPorts = (list: string) => list.split(',').map((n) => ({ host: n.split(':')[0], port: Number(n.split(':')[1]) }));

/** A TestRedis onto a cluster someone else started (and stops: `stop` does nothing). */
export function onCluster(nodes: string): TestRedis {
  const seeds = hostPorts(nodes);
  return {
    url: `redis-cluster://${nodes}`,
    port: seeds[0].port,
    env: { VEER_REDIS_CLUSTER_NODES: nodes },
    target: { mode: 'cluster', nodes: seeds },
    client: (options = {}) => new Cluster(seeds, { redisOptions: options }) as unknown as Redis,
    stop: async () => {},
  };
}

/** A TestRedis onto Sentinels someone else started (and stops). */
export function onSentinels(sentinels: string, name: string): TestRedis {
  const list = hostPorts(sentinels);
  return {
    url: `redis-sentinel://${name}@${sentinels}`,
    port: list[0].port,
    env: { VEER_REDIS_SENTINELS: sentinels, VEER_REDIS_SENTINEL_NAME: name },
    target: { mode: 'sentinel', sentinels: list, name },
    client: (options = {}) => new Redis({ ...options, sentinels: list, name }),
    stop: async () => {},
  };
}

/**
 * A private redis-server whose data survives a stop and start on the same port, as a
 * production Redis with AOF does: keys written before an outage (deployments, gateways) are
 * there after it, and keys whose TTL ran out meanwhile (leases) are gone.
 */
export async function startPersistentRedis(): Promise<PersistentRedis> {
  return startServer(undefined, true);
}

async function startServer(port: number | undefined, aof: boolean): Promise<PersistentRedis> {
  const at = port ?? (await freePort());
  const dir = await tempDir(aof ? 'redis-aof' : 'redis');
  let proc: ServiceProcess | undefined;
  const up = async () => {
    proc = await serve(at, dir.path, aof);
  };
  const down = async () => {
    await proc?.stop();
    proc = undefined;
  };
  try {
    await up();
  } catch (err) {
    await dir.remove();
    throw err;
  }
  const url = `redis://127.0.0.1:${at}`;
  return {
    url,
    port: at,
    env: { VEER_REDIS_URL: url },
    target: { mode: 'single', url },
    client: (options = {}) => new Redis(url, options),
    up,
    down,
    stop: async () => {
      await down();
      await dir.remove();
    },
  };
}

/** Runs redis-server on `port` with data in `dir` and waits until it answers PING (after loading its AOF). */
async function serve(port: number, dir: string, aof: boolean): Promise<ServiceProcess> {
  requireInstalled('redis-server');
  const persistence = aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const proc = startProcess('redis-server', [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    dir,
    '--save',
    '',
    ...persistence,
    '--maxmemory-policy',
    'noeviction',
  ]);
  const probe = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await waitFor(
      async () => {
        proc.assertRunning();
        if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
        // LOADING answers errors until the AOF is read back.
        return (await probe.ping()) === 'PONG';
      },
      { timeoutMs: 10_000, what: `redis-server on ${port}` },
    );
    return proc;
  } catch (err) {
    await proc.stop();
    throw err;
  } finally {
    probe.disconnect();
  }
}

/** KEYS `pattern` on every master of a cluster (a cluster client sends KEYS to one node only), or on the server. */
export async function keysMatching(client: Redis, pattern: string): Promise<string[]> {
  const found = await Promise.all((await dataNodes(client)).map((node) => node.keys(pattern)));
  return found.flat().sort();
}
