import { Agent, request } from 'node:http';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

export interface LoadOptions {
  url: string;
  concurrency?: number;
  /** Keep-alive connections (true) or `Connection: close` per request (false). */
  keepAlive?: boolean;
  /** Stop after this many requests in total (bound for tests). */
  requests?: number;
  /** Hard bound on running time, whatever else happens. Default 60 s. */
  maxMs?: number;
  headers?: Record<string, string>;
}

export interface LoadResult {
  /** Successful (2xx-4xx) responses per body text (the backends answer their name). */
  counts: Record<string, number>;
  statuses: Record<number, number>;
  /** Network errors and 5xx responses. */
  failures: number;
  errors: Record<string, number>;
  requests: number;
  ms: number;
  rps: number;
}

export interface RunningLoad {
  /** Stops sending, waits for requests in flight, and returns the totals. */
  stop(): Promise<LoadResult>;
  /** Totals so far. */
  snapshot(): LoadResult;
  /** Resolves when the load ends by itself (request count or maxMs). */
  done: Promise<LoadResult>;
}

/** A bounded loopback load generator: `concurrency` loops, each sending one request at a time. */
export function startLoad(o: LoadOptions): RunningLoad {
  const url = new URL(o.url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error(`load generator is loopback-only, got ${url.hostname}`);
  const concurrency = o.concurrency ?? 8;
  const keepAlive = o.keepAlive ?? true;
  const agent = new Agent({ keepAlive, maxSockets: concurrency });
  const counts: Record<string, number> = {};
  const statuses: Record<number, number> = {};
  const errors: Record<string, number> = {};
  let failures = 0;
  let sent = 0;
  let completed = 0;
  let stopped = false;
  const t0 = Date.now();
  const deadline = t0 + (o.maxMs ?? 60_000);
  const fail = (what: string) => {
    failures++;
    errors[what] = (errors[what] ?? 0) + 1;
  };

  const one = () =>
    new Promise<void>((resolve) => {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (!keepAlive) headers.connection = 'close';
      const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, agent, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          const st = res.statusCode ?? 0;
          statuses[st] = (statuses[st] ?? 0) + 1;
          if (st >= 500) fail(`HTTP ${st}`);
          else counts[body] = (counts[body] ?? 0) + 1;
          resolve();
        });
        res.on('error', (err) => {
          fail((err as NodeJS.ErrnoException).code ?? err.message);
          resolve();
        });
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', (err) => {
        fail((err as NodeJS.ErrnoException).code ?? err.message);
        resolve();
      });
      req.end();
    });

  const more = () => !stopped && Date.now() < deadline && (o.requests === undefined || sent < o.requests);
  const worker = async () => {
    while (more()) {
      sent++;
      await one();
      completed++;
    }
  };
  const snapshot = (): LoadResult => {
    const ms = Date.now() - t0;
    return {
      counts: { ...counts },
      statuses: { ...statuses },
      failures,
      errors: { ...errors },
      requests: completed,
      ms,
      rps: Math.round((completed * 1000) / Math.max(ms, 1)),
    };
  };
  const done = Promise.all(Array.from({ length: concurrency }, worker)).then(() => {
    agent.destroy();
    return snapshot();
  });
  return {
    done,
    snapshot,
    stop: async () => {
      stopped = true;
      return done;
    },
  };
}

/** Sends `requests` requests and returns the totals. */
export function runLoad(o: LoadOptions & { requests: number }): Promise<LoadResult> {
  return startLoad(o).done;
}

/** One request; returns status, body and headers (for cookies). */
export function fetchOnce(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { connection: 'close', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The same load from a worker thread, so the generator does not share an event loop with
 * what is being measured (benchmarks).
 */
export function runLoadInWorker(o: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { veerLoad: o } });
    w.once('message', (r: LoadResult) => {
      resolve(r);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

if (!isMainThread && (workerData as { veerLoad?: LoadOptions } | undefined)?.veerLoad) {
  void startLoad((workerData as { veerLoad: LoadOptions }).veerLoad).done.then((r) => parentPort!.postMessage(r));
}
