import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpBackend {
  name: string;
  port: number;
  /** Requests this backend answered. */
  readonly hits: number;
  close: () => Promise<void>;
}

/**
 * Plain node http servers on free loopback ports, each answering every request with its
 * own name as the body (and in `x-backend`), with keep-alive.
 */
export async function startHttpBackends(names: string[]): Promise<HttpBackend[]> {
  return Promise.all(names.map(async (name) => {
    let hits = 0;
    const server: Server = createServer((req, res) => {
      hits++;
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name });
      res.end(name);
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      name,
      port: (server.address() as AddressInfo).port,
      get hits() {
        return hits;
      },
      close: () => new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    };
  }));
}
