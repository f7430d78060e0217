import { Redis } from 'ioredis';
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
 */
export async function startRedis(options: { port?: number } = {}): Promise<TestRedis> {
  const port = options.port ?? (await freePort());
  const dir = await tempDir('redis');
  const proc = startProcess('redis-server', [
    '--bind', '127.0.0.1', '--port', String(port), '--dir', dir.path,
    '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction',
  ]);
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await waitFor(async () => {
      if (proc.child.exitCode !== null) throw new Error(`redis-server exited: ${proc.output()}`);
      if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
      return (await probe.ping()) === 'PONG';
    }, { timeoutMs: 10_000, what: `redis-server on ${port}` });
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
