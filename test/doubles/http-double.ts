import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** Shared plumbing of the protocol doubles: a loopback HTTP server, body reading, fault injection. */
export interface DoubleRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface DoubleResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type DoubleHandler = (req: DoubleRequest) => DoubleResponse | Promise<DoubleResponse>;

export interface InjectedFailure {
  status: number;
  body: unknown;
  /** Only requests with this method (default any). */
  method?: string;
  /** Only paths matching this (default any). */
  path?: RegExp;
  times: number;
}

export interface HttpDouble {
  url: string;
  port: number;
  /** Every request seen, for assertions on verbs, paths and content types. */
  requests: Array<{ method: string; path: string; contentType?: string; authorization?: string }>;
  /** The next matching request(s) get this answer instead of the real one. */
  failNext(failure: Omit<InjectedFailure, 'times'> & { times?: number }): void;
  close(): Promise<void>;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startHttpDouble(handler: DoubleHandler, onClose?: () => void): Promise<HttpDouble> {
  const requests: HttpDouble['requests'] = [];
  const failures: InjectedFailure[] = [];
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const url = new URL(req.url ?? '/', 'http://double');
      const body = await readBody(req);
      const method = req.method ?? 'GET';
      requests.push({ method, path: url.pathname, contentType: req.headers['content-type'], authorization: req.headers.authorization });
      const f = failures.find((x) => x.times > 0 && (!x.method || x.method === method) && (!x.path || x.path.test(url.pathname)));
      let out: DoubleResponse;
      if (f) {
        f.times--;
        out = { status: f.status, body: f.body };
      } else {
        out = await handler({ method, path: url.pathname, query: url.searchParams, headers: req.headers, body });
      }
      res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers });
      res.end(out.body === undefined ? '' : JSON.stringify(out.body));
    } catch (err) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `double failed: ${(err as Error).message}` }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    failNext(failure) {
      failures.push({ ...failure, times: failure.times ?? 1 });
    },
    async close() {
      onClose?.();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
