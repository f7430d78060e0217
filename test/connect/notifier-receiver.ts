import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  /** Path and query as requested. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as it arrived (what a signature is computed over). */
  raw: string;
  body: any;
  /** What the receiver answered. */
  status: number;
}

export interface Receiver {
  url: string;
  requests: Received[];
  /** `X-Veer-Delivery` of every request answered 2xx, in arrival order. */
  readonly delivered: string[];
  close(): Promise<void>;
}

/**
 * A webhook receiver on a free loopback port; `status(n)` answers the n-th request (from 0),
 * default 200. `hold(n)`, when it returns a promise, delays that answer until it settles (a
 * receiver stuck on a request).
 */
export async function startReceiver(status: (n: number) => number = () => 200, hold?: (n: number) => Promise<void> | undefined): Promise<Receiver> {
  const requests: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const n = requests.length;
      const code = status(n);
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      requests.push({ path: req.url ?? '', headers: req.headers, raw, body, status: code });
      const answer = () => {
        res.writeHead(code, { 'content-type': 'text/plain' });
        res.end(code >= 400 ? `refused with ${code}` : 'ok');
      };
      const held = hold?.(n);
      if (held) void held.then(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests,
    get delivered() {
      return requests.filter((r) => r.status < 300).map((r) => String(r.headers['x-veer-delivery']));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
