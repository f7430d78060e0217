import { Redis } from 'ioredis';
import { requireInstalled } from '../setup/services.ts';
import { freePort } from './free-port.ts';
import { startProcess, tempDir, type ServiceProcess } from './process.ts';
import type { TestRedis } from './redis-server.ts';
import { waitFor } from './wait-for.ts';

export interface PersistentRedis extends TestRedis {
  /** Stops the server, keeping its data: the outage. */
  down(): Promise<void>;
  /** Starts it again on the same port from the same data (AOF, fsync always). */
  up(): Promise<void>;
}

/**
 * A private redis-server whose data survives a stop and start on the same port, as a
 * production Redis with AOF does: keys written before an outage (deployments, gateways) are
 * there after it, and keys whose TTL ran out meanwhile (leases) are gone.
 */
export async function startPersistentRedis(): Promise<PersistentRedis> {
  requireInstalled('redis-server');
  const port = await freePort();
  const dir = await tempDir('redis-aof');
  const url = `redis://127.0.0.1:${port}`;
  let proc: ServiceProcess | undefined;
  const up = async () => {
    const p = startProcess('redis-server', [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir.path,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
    ]);
    proc = p;
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await waitFor(
        async () => {
          p.assertRunning();
          if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
          // LOADING answers errors until the AOF is read back.
          return (await probe.ping()) === 'PONG';
        },
        { timeoutMs: 10_000, what: `redis-server on ${port}` },
      );
    } finally {
      probe.disconnect();
    }
  };
  const down = async () => {
    await proc?.stop();
    proc = undefined;
  };
  try {
    await up();
  } catch (err) {
    await down();
    await dir.remove();
    throw err;
  }
  return {
    url,
    port,
    up,
    down,
    stop: async () => {
      await down();
      await dir.remove();
    },
  };
}
