import { Redis } from 'ioredis';
import { requireInstalled } from '../setup/services.ts';
import { freePort } from './free-port.ts';
import { startProcess, tempDir, type ServiceProcess } from './process.ts';
import { waitFor } from './wait-for.ts';

export interface TestRedis {
  url: string;
  port: number;
  /** Stops the server and removes its data directory. */
  stop: () => Promise<void>;
}

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
export async function startRedis(options: { port?: number } = {}): Promise<TestRedis> {
  return startServer(options.port, false);
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
  return {
    url: `redis://127.0.0.1:${at}`,
    port: at,
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
