import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A test DOUBLE of Consul's KV HTTP API (no Consul server can run on these machines). It
 * follows the documented behaviour the KV adapter relies on, checked against
 * https://developer.hashicorp.com/consul/api-docs/kv and /api-docs/txn:
 * - GET /v1/kv/<key>[?recurse][?keys[&separator=]][?raw]: array of
 *   {CreateIndex, ModifyIndex, LockIndex, Flags, Key, Value(base64|null), Session?}; 404
 *   (with X-Consul-Index) when nothing matches; `recurse` is a plain string prefix.
 * - Blocking queries: `?index=N&wait=5s` waits until the result's index exceeds N or the
 *   wait passes (then the same index comes back). A list's index is the highest
 *   ModifyIndex of its entries or of tombstones under the prefix, else the table's index.
 * - PUT /v1/kv/<key>[?cas=N][&flags=F]: body is the raw value; answers `true`/`false`.
 *   cas=0 creates only; cas=N writes only if ModifyIndex is N.
 * - DELETE /v1/kv/<key>[?recurse][?cas=N]: answers `true`/`false`.
 * - PUT /v1/txn: KV verbs set, cas, get, get-tree, check-index, check-not-exists, delete,
 *   delete-tree, delete-cas, applied atomically at one index; 200 {Results, Errors:null} or
 *   409 {Results:null, Errors:[{OpIndex, What}]}.
 * - Headers X-Consul-Index, X-Consul-KnownLeader, X-Consul-LastContact; X-Consul-Token
 *   (or ?token=) checked when the double has a token (403 "Permission denied").
 * Not modelled: sessions/locks (acquire/release answer 400), ACL rules beyond one token,
 * datacenters, consistency modes, tombstone reaping, the wait jitter.
 */
export interface ConsulDouble {
  url: string;
  port: number;
  /** The current raft index (advances on every write). */
  index(): number;
  stop(): Promise<void>;
}

interface Entry {
  CreateIndex: number;
  ModifyIndex: number;
  LockIndex: number;
  Flags: number;
  Key: string;
  Value: Buffer;
}

type TxnOp = { KV?: { Verb: string; Key: string; Value?: string; Flags?: number; Index?: number } };

const MAX_VALUE = 512 * 1024;

export async function startConsulDouble(options: { token?: string } = {}): Promise<ConsulDouble> {
  let kv = new Map<string, Entry>();
  let tombstones = new Map<string, number>();
  let raft = 10;
  const waiters = new Set<() => void>();

  const tableIndex = () => raft;
  const listIndex = (prefix: string) => {
    let idx = 0;
    for (const e of kv.values()) if (e.Key.startsWith(prefix) && e.ModifyIndex > idx) idx = e.ModifyIndex;
    for (const [k, i] of tombstones) if (k.startsWith(prefix) && i > idx) idx = i;
    return idx || tableIndex();
  };
  const keyIndex = (key: string) => kv.get(key)?.ModifyIndex ?? tombstones.get(key) ?? 0;
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  const render = (e: Entry, withValue = true) => ({
    LockIndex: e.LockIndex,
    Key: e.Key,
    Flags: e.Flags,
    Value: withValue && e.Value.length ? e.Value.toString('base64') : null,
    CreateIndex: e.CreateIndex,
    ModifyIndex: e.ModifyIndex,
  });

  /** Applies write ops at one new index against copies; commits only if all succeed. */
  function transact(ops: TxnOp[]): { results?: unknown[]; errors?: Array<{ OpIndex: number; What: string }> } {
    const next = new Map(kv);
    const nextTomb = new Map(tombstones);
    const at = raft + 1;
    let wrote = false;
    const results: unknown[] = [];
    const put = (key: string, value: Buffer, flags: number) => {
      const cur = next.get(key);
      next.set(key, { Key: key, Value: value, Flags: flags, LockIndex: cur?.LockIndex ?? 0, CreateIndex: cur?.CreateIndex ?? at, ModifyIndex: at });
      nextTomb.delete(key);
      wrote = true;
      return next.get(key)!;
    };
    const del = (key: string) => {
      if (next.delete(key)) {
        nextTomb.set(key, at);
        wrote = true;
      }
    };
    for (const [i, op] of ops.entries()) {
      const o = op.KV;
      if (!o || typeof o.Verb !== 'string' || typeof o.Key !== 'string') return { errors: [{ OpIndex: i, What: 'missing KV operation' }] };
      const value = Buffer.from(o.Value ?? '', 'base64');
      const cur = next.get(o.Key);
      const fail = (What: string) => ({ errors: [{ OpIndex: i, What }] });
      switch (o.Verb) {
        case 'set':
          results.push({ KV: render(put(o.Key, value, o.Flags ?? 0), false) });
          break;
        case 'cas':
          if ((o.Index ?? 0) !== (cur?.ModifyIndex ?? 0)) return fail(`failed to set key "${o.Key}", index is stale`);
          results.push({ KV: render(put(o.Key, value, o.Flags ?? 0), false) });
          break;
        case 'get':
          if (!cur) return fail(`key "${o.Key}" doesn't exist`);
          results.push({ KV: render(cur) });
          break;
        case 'get-tree':
          for (const e of [...next.values()].filter((e) => e.Key.startsWith(o.Key)).sort((a, b) => (a.Key < b.Key ? -1 : 1))) results.push({ KV: render(e) });
          break;
        case 'check-index':
          if ((cur?.ModifyIndex ?? 0) !== (o.Index ?? 0)) return fail(`current modify index ${cur?.ModifyIndex ?? 0} != ${o.Index ?? 0}`);
          results.push({ KV: cur ? render(cur, false) : null });
          break;
        case 'check-not-exists':
          if (cur) return fail(`key "${o.Key}" exists`);
          break;
        case 'delete':
          del(o.Key);
          break;
        case 'delete-tree':
          for (const k of [...next.keys()]) if (k.startsWith(o.Key)) del(k);
          break;
        case 'delete-cas':
          if ((o.Index ?? 0) !== (cur?.ModifyIndex ?? 0)) return fail(`failed to delete key "${o.Key}", index is stale`);
          del(o.Key);
          break;
        default:
          return fail(`unknown KV verb "${o.Verb}"`);
      }
    }
    if (wrote) {
      raft = at;
      kv = next;
      tombstones = nextTomb;
      notify();
    }
    return { results };
  }

  /** Waits until `index()` passes `after` or `waitMs` elapses (a Consul blocking query). */
  function block(after: number | undefined, waitMs: number, index: () => number, req: IncomingMessage): Promise<void> {
    if (after === undefined || after <= 0 || index() > after) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
        req.off('close', done);
        resolve();
      };
      const check = () => {
        if (index() > after) done();
      };
      const timer = setTimeout(done, waitMs);
      waiters.add(check);
      req.on('close', done);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://consul');
    const q = url.searchParams;
    const send = (status: number, body: unknown, index = tableIndex()) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, {
        'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
        'X-Consul-Index': String(index),
        'X-Consul-KnownLeader': 'true',
        'X-Consul-LastContact': '0',
      });
      res.end(text);
    };
    if (options.token && (req.headers['x-consul-token'] ?? q.get('token')) !== options.token) return send(403, 'Permission denied');

    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);

    if (url.pathname === '/v1/txn' && req.method === 'PUT') {
      let ops: TxnOp[];
      try {
        ops = JSON.parse(body.toString('utf8'));
      } catch {
        return send(400, 'Failed to parse body');
      }
      if (!Array.isArray(ops) || ops.length > 64) return send(413, 'Transaction contains too many operations');
      const out = transact(ops);
      return out.errors ? send(409, { Results: null, Errors: out.errors }) : send(200, { Results: out.results, Errors: null });
    }
    if (!url.pathname.startsWith('/v1/kv/')) return send(404, `Invalid URL path: not a recognized HTTP API endpoint`);
    const key = decodeURIComponent(url.pathname.slice('/v1/kv/'.length));
    const index = q.has('index') ? Number(q.get('index')) : undefined;
    const waitMs = Math.min(parseWait(q.get('wait')) ?? 300_000, 600_000);

    if (req.method === 'GET') {
      if (q.has('recurse') || q.has('keys')) {
        await block(index, waitMs, () => listIndex(key), req);
        const matches = [...kv.values()].filter((e) => e.Key.startsWith(key)).sort((a, b) => (a.Key < b.Key ? -1 : 1));
        const idx = listIndex(key);
        if (!matches.length) return send(404, '', idx);
        if (q.has('keys')) {
          const sep = q.get('separator');
          const keys = new Set<string>();
          for (const e of matches) {
            const at = sep ? e.Key.indexOf(sep, key.length) : -1;
            keys.add(at >= 0 ? e.Key.slice(0, at + sep!.length) : e.Key);
          }
          return send(200, [...keys], idx);
        }
        return send(
          200,
          matches.map((e) => render(e)),
          idx,
        );
      }
      await block(index, waitMs, () => keyIndex(key), req);
      const e = kv.get(key);
      if (!e) return send(404, '', tableIndex());
      if (q.has('raw')) {
        res.writeHead(200, {
          'Content-Type': 'application/octet-stream',
          'X-Consul-Index': String(tableIndex()),
          'X-Consul-KnownLeader': 'true',
          'X-Consul-LastContact': '0',
        });
        return void res.end(e.Value);
      }
      return send(200, [render(e)], tableIndex());
    }
    if (req.method === 'PUT') {
      if (q.has('acquire') || q.has('release')) return send(400, 'sessions are not modelled by this Consul double');
      if (key === '' || (key.endsWith('/') && body.length)) return send(400, 'Missing key name');
      if (body.length > MAX_VALUE) return send(413, `Value exceeds ${MAX_VALUE} byte limit`);
      const flags = Number(q.get('flags') ?? 0);
      const op = q.has('cas') ? { Verb: 'cas', Index: Number(q.get('cas')) } : { Verb: 'set' };
      const out = transact([{ KV: { ...op, Key: key, Value: body.toString('base64'), Flags: flags } }]);
      return send(200, out.errors ? false : true);
    }
    if (req.method === 'DELETE') {
      const op = q.has('recurse') ? { Verb: 'delete-tree' } : q.has('cas') ? { Verb: 'delete-cas', Index: Number(q.get('cas')) } : { Verb: 'delete' };
      const out = transact([{ KV: { ...op, Key: key } }]);
      return send(200, out.errors ? false : true);
    }
    send(405, 'method not allowed');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    index: () => raft,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseWait(v: string | null): number | undefined {
  const m = v ? /^(\d+)(ms|s|m|h)?$/.exec(v) : null;
  if (!m) return undefined;
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as Record<string, number>)[m[2] ?? 's'];
}
