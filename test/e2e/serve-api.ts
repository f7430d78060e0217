import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { TestSystem } from '../helpers/test-system.ts';

/** A test system's API on a real loopback port, for the servers that call it (Prometheus' service discovery, Alertmanager's webhook). */
export async function serveApi(t: Pick<TestSystem, 'app'>, port = 0): Promise<{ url: string; close: () => Promise<void> }> {
  // `port`: a restarted API on the address its clients already hold (the CLI's reconnect test).
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port }, () => resolve(s as unknown as Server));
    (s as unknown as Server).once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
