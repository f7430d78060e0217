import { Redis } from 'ioredis';
import { requireInstalled } from '../setup/services.ts';
import { freePort } from './free-port.ts';
import { startProcess, tempDir } from './process.ts';
import { waitFor } from './wait-for.ts';

export interface TestRedis {
  url: string;
  port: number;
  /** Stops the server and removes its data directory. */
  stop: () => Promise<void>;
}

/**
 * Starts a private redis-server on a free loopback port (or `port`, to bring one back after
 * an outage) with a temp data dir, so a test never touches (or depends on) the shared Redis on 6379.
 * Fails at once, naming redis-server, when it is not installed or exits instead of serving.
 */
export async function startRedis(options: { port?: number } = {}): Promise<TestRedis> {
  requireInstalled('redis-server');
  const port = options.port ?? (await freePort());
  const dir = await tempDir('redis');
  const proc = startProcess('redis-server', [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    dir.path,
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory-policy',
    'noeviction',
  ]);
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await waitFor(
      async () => {
        proc.assertRunning();
        if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
        return (await probe.ping()) === 'PONG';
      },
      { timeoutMs: 10_000, what: `redis-server on ${port}` },
    );
  } catch (err) {
    await proc.stop();
    await dir.remove();
    throw err;
  } finally {
    probe.disconnect();
  }
  return {
    url,
    port,
    stop: async () => {
      await proc.stop();
      await dir.remove();
    },
  };
}
