import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A test DOUBLE of Consul's KV HTTP API (no Consul server can run on these machines). It
 * follows the documented behaviour the KV adapter relies on, checked against
 * https://developer.hashicorp.com/consul/api-docs/kv, /api-docs/txn and the server source
 * (github.com/hashicorp/consul agent/txn_endpoint.go, agent/consul/kvs_endpoint.go,
 * agent/consul/txn_endpoint.go, acl/errors.go):
 * - GET /v1/kv/<key>[?recurse][?keys[&separator=]][?raw]: array of
 *   {CreateIndex, ModifyIndex, LockIndex, Flags, Key, Value(base64|null), Session?}; 404
 *   (with X-Consul-Index) when nothing matches; `recurse` is a plain string prefix.
 * - Blocking queries (https://developer.hashicorp.com/consul/api-docs/features/blocking):
 *   `?index=N&wait=5s` waits until the result's index exceeds N or the wait passes (then the
 *   same index comes back); the wait is capped at 10 min and Consul adds up to wait/16 of
 *   random jitter (`jitter` option). A list's index is the highest ModifyIndex of its
 *   entries or of tombstones under the prefix, else the table's index. A snapshot restore
 *   (`restore()`) wakes every blocking query at once with the restored, LOWER index
 *   (rpc.go blockingQuery returns on the state store's AbandonCh).
 * - PUT /v1/kv/<key>[?cas=N][&flags=F]: body is the raw value; answers `true`/`false`.
 *   cas=0 creates only; cas=N writes only if ModifyIndex is N.
 * - DELETE /v1/kv/<key>[?recurse][?cas=N]: answers `true`/`false`.
 * - PUT /v1/txn: KV verbs set, cas, get, get-tree, check-index, check-not-exists, delete,
 *   delete-tree, delete-cas, applied atomically at one index; 200 {Results, Errors:null} or
 *   409 {Results:null, Errors:[{OpIndex, What}]}. A body over txn_max_req_len (default
 *   512 KiB = 524288 bytes) is 413 "Request body too large, max size: 524288 bytes"; more
 *   than 64 ops or a value over kv_max_value_size (512 KiB) is 413 too.
 * - ACLs (https://developer.hashicorp.com/consul/docs/security/acl/acl-rules#key-value-rules),
 *   on when `token` or `tokens` is given, default policy deny. A token is its list of
 *   `key_prefix` rules (the longest matching prefix decides); no token = the anonymous token.
 *   An unknown token is 403 "ACL not found". Reading one key without `read` is 403
 *   "Permission denied: …"; a recursive read is FILTERED, not refused (KVS.List +
 *   FilterDirEnt): unreadable entries are dropped (404 when none is left) and, for a
 *   non-anonymous token only, `X-Consul-Results-Filtered-By-ACLs: true` is set. A write
 *   without `write`: plain PUT/DELETE 403; in a txn (Txn.preCheck) 409 with
 *   Errors[].What = "Permission denied: token with AccessorID '…' lacks permission
 *   'key:write' on \"<key>\"" (acl.PermissionDeniedError) for every refused op.
 * - Headers X-Consul-Index, X-Consul-KnownLeader, X-Consul-LastContact.
 * Not modelled: sessions/locks (acquire/release answer 400), `key` (exact) and `list`
 * rules, datacenters, consistency modes, tombstone reaping.
 */
export type ConsulAclPolicy = 'read' | 'write' | 'deny';
/** One `key_prefix "<prefix>" { policy = "<policy>" }` rule. */
export interface ConsulAclRule {
  prefix: string;
  policy: ConsulAclPolicy;
}

export interface ConsulDoubleOptions {
  /** ACLs on, and this secret is a management token (write on every key). */
  token?: string;
  /** ACLs on: token secret → its rules. */
  tokens?: Record<string, ConsulAclRule[]>;
  /** Rules of the anonymous token (requests without one) when ACLs are on; default none (deny all). */
  anonymous?: ConsulAclRule[];
  /** Blocking-query jitter on top of `wait`: 'random' (Consul: up to wait/16; default), 'max' (exactly wait/16), 'none'. */
  jitter?: 'random' | 'max' | 'none';
}

/** The KV state at one moment, for `restore()` (a snapshot restore sends the index backwards). */
export interface ConsulSnapshot {
  readonly raft: number;
}

export interface ConsulDouble {
  url: string;
  port: number;
  /** The current raft index (advances on every write). */
  index(): number;
  /** Replaces a token's rules (a policy edited while Veer runs; '' = the anonymous token); `undefined` deletes the token. */
  setRules(token: string, rules: ConsulAclRule[] | undefined): void;
  /** The KV state now, for `restore()`. */
  snapshot(): ConsulSnapshot;
  /** `consul snapshot restore`: state and index go back to the snapshot; blocking queries return at once. */
  restore(snapshot: ConsulSnapshot): void;
  /** Every request so far, as 'METHOD /path?query'. */
  requests: string[];
  /** How many blocking queries are being held now. */
  blocking(): number;
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
interface State extends ConsulSnapshot {
  kv: Map<string, Entry>;
  tombstones: Map<string, number>;
}

/** kv_max_value_size and txn_max_req_len defaults (agent/config/default.go: raft's suggested max size). */
const MAX_VALUE = 512 * 1024;
const MAX_TXN_BYTES = 512 * 1024;
/** agent/txn_endpoint.go maxTxnOps. */
const MAX_TXN_OPS = 64;
const MANAGEMENT: ConsulAclRule[] = [{ prefix: '', policy: 'write' }];
const ANONYMOUS = '00000000-0000-0000-0000-000000000002';

export async function startConsulDouble(options: ConsulDoubleOptions = {}): Promise<ConsulDouble> {
  let kv = new Map<string, Entry>();
  let tombstones = new Map<string, number>();
  let raft = 10;
  const waiters = new Set<(abandon?: boolean) => void>();
  const requests: string[] = [];
  const aclOn = options.token !== undefined || options.tokens !== undefined;
  const tokens = new Map<string, ConsulAclRule[]>(Object.entries(options.tokens ?? {}));
  if (options.token !== undefined) tokens.set(options.token, MANAGEMENT);
  let anonymousRules = options.anonymous ?? [];
  const accessorOf = (secret: string) => `accessor-${[...tokens.keys()].indexOf(secret) + 1}`;

  const tableIndex = () => raft;
  const listIndex = (prefix: string) => {
    let idx = 0;
    for (const e of kv.values()) if (e.Key.startsWith(prefix) && e.ModifyIndex > idx) idx = e.ModifyIndex;
    for (const [k, i] of tombstones) if (k.startsWith(prefix) && i > idx) idx = i;
    return idx || tableIndex();
  };
  const keyIndex = (key: string) => kv.get(key)?.ModifyIndex ?? tombstones.get(key) ?? 0;
  const notify = (abandon = false) => {
    for (const w of [...waiters]) w(abandon);
  };
  const render = (e: Entry, withValue = true) => ({
    LockIndex: e.LockIndex,
    Key: e.Key,
    Flags: e.Flags,
    Value: withValue && e.Value.length ? e.Value.toString('base64') : null,
    CreateIndex: e.CreateIndex,
    ModifyIndex: e.ModifyIndex,
  });

  /** Who is asking: undefined = ACLs off; a token's rules; or 'unknown' (403 "ACL not found"). */
  type Caller = { anonymous: boolean; accessor: string; rules: ConsulAclRule[] } | undefined;
  const policyFor = (caller: Caller, key: string): ConsulAclPolicy => {
    if (!caller) return 'write';
    let best: ConsulAclRule | undefined;
    for (const r of caller.rules) if (key.startsWith(r.prefix) && (!best || r.prefix.length > best.prefix.length)) best = r;
    return best?.policy ?? 'deny';
  };
  const canRead = (caller: Caller, key: string) => policyFor(caller, key) !== 'deny';
  const canWrite = (caller: Caller, key: string) => policyFor(caller, key) === 'write';
  /** KeyWritePrefix: write on the prefix and no rule under it that is weaker. */
  const canWritePrefix = (caller: Caller, prefix: string) =>
    canWrite(caller, prefix) && !(caller?.rules ?? []).some((r) => r.prefix.startsWith(prefix) && r.policy !== 'write');
  /** acl.PermissionDeniedError.Error(), as Consul 1.11+ words it. */
  const denied = (caller: Caller, access: 'read' | 'write', key: string) =>
    caller?.anonymous
      ? `Permission denied: anonymous token lacks permission 'key:${access}' on "${key}". The anonymous token is used implicitly when a request does not specify a token.`
      : `Permission denied: token with AccessorID '${caller?.accessor}' lacks permission 'key:${access}' on "${key}"`;

  /** Applies write ops at one new index against copies; commits only if all succeed. */
  function transact(ops: TxnOp[], caller: Caller): { results?: unknown[]; errors?: Array<{ OpIndex: number; What: string }> } {
    // Txn.preCheck: ACLs are checked for every op before anything is applied, all errors reported.
    const refused: Array<{ OpIndex: number; What: string }> = [];
    for (const [i, op] of ops.entries()) {
      const o = op.KV;
      if (!o || typeof o.Key !== 'string') continue;
      if (o.Verb === 'get' || o.Verb === 'get-tree') continue; // filtered on output instead
      if (o.Verb === 'check-index') {
        if (!canRead(caller, o.Key)) refused.push({ OpIndex: i, What: denied(caller, 'read', o.Key) });
      } else if (o.Verb === 'delete-tree' ? !canWritePrefix(caller, o.Key) : !canWrite(caller, o.Key)) {
        refused.push({ OpIndex: i, What: denied(caller, 'write', o.Key) });
      }
    }
    if (refused.length) return { errors: refused };
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
          if (canRead(caller, o.Key)) results.push({ KV: render(cur) });
          break;
        case 'get-tree':
          for (const e of [...next.values()].filter((e) => e.Key.startsWith(o.Key) && canRead(caller, e.Key)).sort((a, b) => (a.Key < b.Key ? -1 : 1)))
            results.push({ KV: render(e) });
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

  const jitter = (waitMs: number) =>
    options.jitter === 'none' ? 0 : options.jitter === 'max' ? Math.floor(waitMs / 16) : Math.floor(Math.random() * (waitMs / 16));

  /** Waits until `index()` passes `after`, a restore, or `waitMs` + jitter elapses (a Consul blocking query). */
  function block(after: number | undefined, waitMs: number, index: () => number, req: IncomingMessage): Promise<void> {
    if (after === undefined || after <= 0 || index() > after) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
        req.off('close', done);
        resolve();
      };
      const check = (abandon?: boolean) => {
        if (abandon || index() > after) done();
      };
      const timer = setTimeout(done, waitMs + jitter(waitMs));
      waiters.add(check);
      req.on('close', done);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://consul');
    const q = url.searchParams;
    const send = (status: number, body: unknown, index = tableIndex(), extra: Record<string, string> = {}) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, {
        'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
        'X-Consul-Index': String(index),
        'X-Consul-KnownLeader': 'true',
        'X-Consul-LastContact': '0',
        ...extra,
      });
      res.end(text);
    };
    let caller: Caller;
    if (aclOn) {
      const secret = (req.headers['x-consul-token'] as string | undefined) ?? q.get('token') ?? '';
      if (secret === '') caller = { anonymous: true, accessor: ANONYMOUS, rules: anonymousRules };
      else if (tokens.has(secret)) caller = { anonymous: false, accessor: accessorOf(secret), rules: tokens.get(secret)! };
      else return send(403, 'ACL not found');
    }

    if (url.pathname === '/v1/txn' && req.method === 'PUT') {
      // Content-Length is checked before the body is read (agent/txn_endpoint.go convertOps).
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > MAX_TXN_BYTES) return send(413, `Request body too large, max size: ${MAX_TXN_BYTES} bytes`);
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);

    if (url.pathname === '/v1/txn' && req.method === 'PUT') {
      if (body.length > MAX_TXN_BYTES) return send(413, `Request body too large, max size: ${MAX_TXN_BYTES} bytes`);
      let ops: TxnOp[];
      try {
        ops = JSON.parse(body.toString('utf8'));
      } catch {
        return send(400, 'Failed to parse body');
      }
      if (!Array.isArray(ops)) return send(400, 'Failed to parse body');
      if (ops.length > MAX_TXN_OPS) return send(413, `Transaction contains too many operations (${ops.length} > ${MAX_TXN_OPS})`);
      for (const op of ops) {
        const size = Buffer.from(op.KV?.Value ?? '', 'base64').length;
        if (size > MAX_VALUE) return send(413, `Value for key "${op.KV?.Key}" is too large (${size} > ${MAX_VALUE} bytes)`);
      }
      const out = transact(ops, caller);
      return out.errors ? send(409, { Results: null, Errors: out.errors }) : send(200, { Results: out.results, Errors: null });
    }
    if (!url.pathname.startsWith('/v1/kv/')) return send(404, `Invalid URL path: not a recognized HTTP API endpoint`);
    const key = decodeURIComponent(url.pathname.slice('/v1/kv/'.length));
    const index = q.has('index') ? Number(q.get('index')) : undefined;
    const waitMs = Math.min(parseWait(q.get('wait')) ?? 300_000, 600_000);

    if (req.method === 'GET') {
      if (q.has('recurse') || q.has('keys')) {
        await block(index, waitMs, () => listIndex(key), req);
        const all = [...kv.values()].filter((e) => e.Key.startsWith(key)).sort((a, b) => (a.Key < b.Key ? -1 : 1));
        const matches = all.filter((e) => canRead(caller, e.Key));
        // Only an authenticated caller learns that something was hidden (Server.maskResultsFilteredByACLs).
        const filtered: Record<string, string> =
          matches.length < all.length && caller && !caller.anonymous ? { 'X-Consul-Results-Filtered-By-ACLs': 'true' } : {};
        const idx = listIndex(key);
        if (!matches.length) return send(404, '', idx, filtered);
        if (q.has('keys')) {
          const sep = q.get('separator');
          const keys = new Set<string>();
          for (const e of matches) {
            const at = sep ? e.Key.indexOf(sep, key.length) : -1;
            keys.add(at >= 0 ? e.Key.slice(0, at + sep!.length) : e.Key);
          }
          return send(200, [...keys], idx, filtered);
        }
        return send(
          200,
          matches.map((e) => render(e)),
          idx,
          filtered,
        );
      }
      if (!canRead(caller, key)) return send(403, denied(caller, 'read', key));
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
      if (body.length > MAX_VALUE) return send(413, `Request body(${body.length} bytes) too large, max size: ${MAX_VALUE} bytes.`);
      if (!canWrite(caller, key)) return send(403, denied(caller, 'write', key));
      const flags = Number(q.get('flags') ?? 0);
      const op = q.has('cas') ? { Verb: 'cas', Index: Number(q.get('cas')) } : { Verb: 'set' };
      const out = transact([{ KV: { ...op, Key: key, Value: body.toString('base64'), Flags: flags } }], caller);
      return send(200, out.errors ? false : true);
    }
    if (req.method === 'DELETE') {
      const op = q.has('recurse') ? { Verb: 'delete-tree' } : q.has('cas') ? { Verb: 'delete-cas', Index: Number(q.get('cas')) } : { Verb: 'delete' };
      if (op.Verb === 'delete-tree' ? !canWritePrefix(caller, key) : !canWrite(caller, key)) return send(403, denied(caller, 'write', key));
      const out = transact([{ KV: { ...op, Key: key } }], caller);
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
    setRules(token, rules) {
      if (token === '') anonymousRules = rules ?? [];
      else if (rules) tokens.set(token, rules);
      else tokens.delete(token);
    },
    snapshot: (): State => ({ raft, kv: new Map(kv), tombstones: new Map(tombstones) }),
    restore(snapshot) {
      const s = snapshot as State;
      raft = s.raft;
      kv = new Map(s.kv);
      tombstones = new Map(s.tombstones);
      notify(true);
    },
    requests,
    blocking: () => waiters.size,
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
