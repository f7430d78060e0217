import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpBackend {
  name: string;
  port: number;
  /** Requests this backend answered. */
  readonly hits: number;
  /** When the first request arrived (epoch ms), for measuring how long a bad version served. */
  readonly firstHitAt: number | undefined;
  close: () => Promise<void>;
}

export interface HttpBackendOptions {
  /** Milliseconds to wait before answering the n-th request (from 0); default none. */
  delayMs?: number | ((n: number) => number);
}

/**
 * A plain node http server on a free loopback port answering every request with its own
 * name as the body (and in `x-backend`), with keep-alive. `status(n)` picks the status of
 * the n-th request (from 0); default 200. `delayMs` adds latency (a slow version).
 */
export async function startHttpBackend(name: string, status: (n: number) => number = () => 200, options: HttpBackendOptions = {}): Promise<HttpBackend> {
  let hits = 0;
  let firstHitAt: number | undefined;
  const delay = typeof options.delayMs === 'function' ? options.delayMs : () => (options.delayMs as number | undefined) ?? 0;
  const server: Server = createServer((req, res) => {
    const n = hits++;
    firstHitAt ??= Date.now();
    const code = status(n);
    req.resume();
    const answer = () => {
      res.writeHead(code, { 'content-type': 'text/plain', 'x-backend': name });
      res.end(name);
    };
    const ms = delay(n);
    if (ms > 0) setTimeout(answer, ms);
    else answer();
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    get hits() {
      return hits;
    },
    get firstHitAt() {
      return firstHitAt;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A status function failing exactly `fraction` of the requests, spread evenly (0.05: every
 * 20th request is a 500), so a short window sees the same error rate as a long one.
 */
export function failingFraction(fraction: number, failStatus = 500): (n: number) => number {
  return (n) => (Math.floor((n + 1) * fraction) > Math.floor(n * fraction) ? failStatus : 200);
}

/** Several 200-answering backends, one per name. */
export function startHttpBackends(names: string[]): Promise<HttpBackend[]> {
  return Promise.all(names.map((name) => startHttpBackend(name)));
}
