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
 * A plain node http server on a free loopback port answering every request with its own
 * name as the body (and in `x-backend`), with keep-alive. `status(n)` picks the status of
 * the n-th request (from 0); default 200.
 */
export async function startHttpBackend(name: string, status: (n: number) => number = () => 200): Promise<HttpBackend> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    const code = status(hits++);
    req.resume();
    res.writeHead(code, { 'content-type': 'text/plain', 'x-backend': name });
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Several 200-answering backends, one per name. */
export function startHttpBackends(names: string[]): Promise<HttpBackend[]> {
  return Promise.all(names.map((name) => startHttpBackend(name)));
}
