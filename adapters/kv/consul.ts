import { EventEmitter } from 'node:events';
import Consul from 'consul';
import type { Logger } from '../../engine/shared/logger.ts';
import { createDiffWatch, createSnapshotRegistry } from './diff-watch.ts';
import { kvConflict, kvForbidden, kvInvalid, kvTooLarge, kvUnavailable, timeoutError, withTimeout, type KvErrorContext } from './errors.ts';
import { byKey, checkKey, checkPrefix, checkRevision, checkTtl, normalizeRoot, underPrefix } from './keys.ts';
import type { KvEntry, KvPutOptions, KvStore, KvWatch, KvWatchOptions } from '../../engine/ports/kv-store.ts';

/**
 * Consul KV store (consul client, HTTP API). Keys are '<prefix>/<key>'.
 * - revision = ModifyIndex; a position = X-Consul-Index of a recursive read.
 * - Writes go through /v1/txn (verb set, or cas with Index; Index 0 = create only) because a
 *   plain PUT answers only true/false and the new ModifyIndex must come back atomically: a
 *   read after the write could return someone else's revision and defeat a later CAS.
 * - delete reads the ModifyIndex and deletes with ?cas=, so "did it exist" is exact.
 * - watch = blocking recursive GETs (?index=&wait=) diffed against the delivered state
 *   (diff-watch.ts): capabilities.history = false. A failed request fails the watch with
 *   KV.UNAVAILABLE. Per https://developer.hashicorp.com/consul/api-docs/features/blocking:
 *   Consul adds up to wait/16 of jitter, so the HTTP timeout is wait + wait/16 + timeoutMs;
 *   an X-Consul-Index lower than the last (snapshot restore, leader change) resets the
 *   index to 0 (the next read does not block), and an index below 1 is treated as 1.
 * - ACLs: Consul FILTERS a recursive read the token may not fully see (404 or a shorter
 *   list, `X-Consul-Results-Filtered-By-ACLs: true` for non-anonymous tokens) and refuses a
 *   txn write with 409 "Permission denied". Both are KV.FORBIDDEN here, never deletions or
 *   CAS conflicts, so a watcher keeps its last state. Before the first operation (and again
 *   after any KV.FORBIDDEN) a probe checks read and write on the prefix without writing:
 *   a single-key GET (403 without read) and a txn `cas` with an index no key has (409
 *   "index is stale" with write, "Permission denied" without). An anonymous token's
 *   filtered reads carry no header: the watch confirms every key that vanished with a
 *   single-key GET (403 = hidden, not deleted).
 * - A txn body over 512 KiB (txn_max_req_len) is answered 413: it is refused before
 *   sending with KV.TOO_LARGE (base64 makes that ~384 KiB of value).
 * - TTL: not supported. Consul ties expiry to sessions (TTL 10 s..24 h, invalidated only
 *   after up to 2x the TTL, renewed by the session holder), which does not match "expire
 *   this key N seconds after its last write"; use a heartbeat value and compare timestamps.
 */
export interface ConsulKvStoreOptions {
  /** http(s)://host:port, e.g. 'http://127.0.0.1:8500'. */
  url: string;
  /** Store prefix, default 'veer'. */
  prefix?: string;
  /** ACL token, sent as X-Consul-Token. */
  token?: string;
  /** Injected client (tests). */
  client?: InstanceType<typeof Consul>;
  logger?: Logger;
  /** Upper bound of every operation (a blocking watch read gets `watchWaitMs` on top). Default 5000 ms. */
  timeoutMs?: number;
  /** `wait` of one blocking watch query. Default 30 000 ms. */
  watchWaitMs?: number;
  /** Probe read and write access on the prefix before the first operation. Default true. */
  checkAccess?: boolean;
}

interface Item {
  Key: string;
  Value: string | null;
  ModifyIndex: number;
}
/** The parts of the consul client used here; its bundled types omit index/wait/ctx/timeout. */
interface ConsulApi {
  kv: {
    get(opts: Record<string, unknown>): Promise<unknown>;
    del(opts: Record<string, unknown>): Promise<boolean>;
  };
  transaction: { create(ops: unknown[], opts: Record<string, unknown>): Promise<[unknown, { Results: Array<{ KV: Item }> | null }]> };
  destroy?(): void;
}

/** txn_max_req_len default (agent/txn_endpoint.go answers 413 above it). */
const MAX_TXN_BYTES = 512 * 1024;
const PROBE_KEY = '_veer-access-probe';

type HttpError = { statusCode?: number; message?: string; response?: { body?: unknown } };
/** The `What` of every txn error (409 body `Errors`). */
const txnErrors = (err: unknown) => {
  const body = (err as HttpError)?.response?.body as { Errors?: Array<{ What?: string }> } | undefined;
  return (body?.Errors ?? []).map((e) => String(e.What ?? ''));
};
const isPermissionDenied = (what: string) => /^Permission denied|^ACL not found/.test(what);
/** includeResponse makes the client resolve [response, body] and attach the response to errors. */
const withResponse = (ctx = new EventEmitter()) => Object.assign(ctx, { includeResponse: true });

const TTL_WHY = 'Consul expires keys only through sessions (TTL >= 10 s, invalidated up to 2x late, renewed by the holder), not per write';

export function createConsulKvStore(options: ConsulKvStoreOptions): KvStore {
  const kind = 'consul';
  const root = normalizeRoot(kind, options.prefix ?? 'veer');
  const timeoutMs = options.timeoutMs ?? 5000;
  const waitMs = Math.min(options.watchWaitMs ?? 30_000, 600_000);
  // Consul holds a blocking query up to wait + wait/16 (random jitter): the HTTP timeout must outlast both.
  const blockMs = waitMs + Math.ceil(waitMs / 16) + timeoutMs;
  const ctx: KvErrorContext = { kind, url: options.url };
  const registry = createSnapshotRegistry();
  const watches = new Set<KvWatch>();
  let client = options.client as ConsulApi | undefined;
  const owned = !options.client;
  let closed = false;

  const full = (key: string) => `${root}/${key}`;
  const listKey = (prefix: string) => (prefix ? full(prefix) : `${root}/`);
  let access: Promise<void> | undefined;

  function consul(): ConsulApi {
    if (closed) throw kvInvalid(kind, 'the store is closed');
    if (!client) {
      let u: URL;
      try {
        u = new URL(options.url);
      } catch {
        throw kvInvalid(kind, `VEER_KV_URL must be an http(s) URL like http://127.0.0.1:8500, got ${options.url}`);
      }
      const secure = u.protocol === 'https:';
      client = new Consul({
        host: u.hostname,
        port: Number(u.port || (secure ? 443 : 80)),
        secure,
        // `timeout` is a per-request default at runtime, though missing from the bundled types.
        defaults: { timeout: timeoutMs, ...(options.token ? { token: options.token } : {}) },
      } as ConstructorParameters<typeof Consul>[0]) as unknown as ConsulApi;
    }
    return client;
  }

  /** Vendor error → KV error: 403 is an ACL refusal, 413 a size limit; store failures otherwise. */
  function translate(op: string, key: string, err: unknown): Error {
    const code = (err as { code?: unknown })?.code;
    if (code === 'KV.CONFLICT' || code === 'KV.FORBIDDEN' || code === 'KV.TOO_LARGE') return err as Error;
    const status = (err as HttpError)?.statusCode;
    const what = String((err as HttpError)?.response?.body ?? (err as HttpError)?.message ?? '');
    if (status === 403) return kvForbidden(ctx, op, key, what || 'Permission denied', err);
    if (status === 413) return kvTooLarge(ctx, op, key, undefined, Number(/max size: (\d+)/.exec(what)?.[1] ?? MAX_TXN_BYTES), `${kind} answered 413: ${what}`);
    return kvUnavailable(ctx, op, key, err);
  }

  async function call<T>(op: string, key: string, fn: (c: ConsulApi) => Promise<T>, ms = timeoutMs): Promise<T> {
    const c = consul();
    try {
      if (options.checkAccess !== false) await (access ??= probeAccess(c));
      return await withTimeout(fn(c), ms, () => timeoutError(ms));
    } catch (err) {
      const out = translate(op, full(key), err);
      // Re-probe next time: the policy may be fixed, or (anonymous token) be what hid keys.
      if ((out as { code?: string }).code === 'KV.FORBIDDEN') access = undefined;
      throw out;
    }
  }

  /** Read and write access on the prefix, checked without writing anything. */
  async function probeAccess(c: ConsulApi): Promise<void> {
    const key = full(PROBE_KEY);
    const who = options.token ? 'the token in VEER_KV_TOKEN' : 'the anonymous token (VEER_KV_TOKEN is not set)';
    const fail = (err: unknown, what: string): never => {
      access = undefined; // not latched: the next operation checks again
      const out = translate('access check', key, err);
      if ((out as { code?: string }).code !== 'KV.FORBIDDEN') throw err; // reported as the caller's operation
      const said = String((err as HttpError)?.response?.body ?? (err as HttpError)?.message ?? '');
      throw kvForbidden(ctx, 'the start-up access check on', `${root}/`, `${who} may not ${what} keys under ${root}/ (Consul: "${said}")`, err);
    };
    await withTimeout(c.kv.get({ key }), timeoutMs, () => timeoutError(timeoutMs)).catch((err) => fail(err, 'read'));
    // A cas with an index no key has: applied never; refused (409) as stale with write, as denied without.
    const probe = [{ KV: { Verb: 'cas', Key: key, Value: '', Index: Number.MAX_SAFE_INTEGER } }];
    await withTimeout(c.transaction.create(probe, { ctx: withResponse() }), timeoutMs, () => timeoutError(timeoutMs)).then(
      () => undefined,
      (err) => {
        const denied = txnErrors(err).find(isPermissionDenied);
        if (denied) fail(Object.assign(new Error(denied), { statusCode: 403, response: { body: denied } }), 'write');
        else if ((err as HttpError)?.statusCode !== 409) fail(err, 'write');
      },
    );
  }

  /** A recursive read: entries under the prefix and X-Consul-Index. */
  async function readTree(c: ConsulApi, prefix: string, extra: Record<string, unknown> = {}): Promise<{ entries: KvEntry[]; position: string }> {
    const reqCtx = (extra.ctx as EventEmitter | undefined) ?? new EventEmitter();
    Object.assign(reqCtx, { includeResponse: true });
    const [res, body] = (await c.kv.get({ key: listKey(prefix), recurse: true, ...extra, ctx: reqCtx })) as [
      { headers: Record<string, string> },
      Item[] | undefined,
    ];
    // A filtered answer is not the state: reading it as such would delete what is hidden.
    if (String(res.headers['x-consul-results-filtered-by-acls']).toLowerCase() === 'true') {
      throw kvForbidden(
        ctx,
        'list',
        listKey(prefix),
        'Consul filtered the answer by ACLs (X-Consul-Results-Filtered-By-ACLs): the token may not read every key under it',
      );
    }
    const position = String(res.headers['x-consul-index'] ?? '0');
    const entries: KvEntry[] = [];
    for (const item of body ?? []) {
      if (!item.Key.startsWith(`${root}/`)) continue;
      const key = item.Key.slice(root.length + 1);
      // Folder markers ('a/b/') and keys written by other tools outside our key rules are skipped.
      if (key === '' || key.endsWith('/') || key.includes('//') || !underPrefix(key, prefix)) continue;
      entries.push({ key, value: item.Value ?? '', revision: String(item.ModifyIndex) });
    }
    entries.sort(byKey);
    return { entries, position };
  }

  const getItem = async (c: ConsulApi, key: string) => (await c.kv.get({ key: full(key) })) as Item | undefined;
  const isConflict = (err: unknown) => (err as { statusCode?: number })?.statusCode === 409;

  return {
    kind,
    capabilities: { ttl: false, history: false },

    async get(key: string): Promise<KvEntry | undefined> {
      checkKey(kind, key);
      const item = await call('get', key, (c) => getItem(c, key));
      return item ? { key, value: item.Value ?? '', revision: String(item.ModifyIndex) } : undefined;
    },

    async put(key: string, value: string, opts: KvPutOptions = {}): Promise<string> {
      checkKey(kind, key);
      if (typeof value !== 'string') throw kvInvalid(kind, `the value of ${key} must be a string`);
      const ifRevision = checkRevision(kind, opts.ifRevision);
      checkTtl(kind, opts.ttlSeconds, false, TTL_WHY);
      const op = {
        Key: full(key),
        Value: Buffer.from(value, 'utf8').toString('base64'),
        ...(ifRevision === undefined ? { Verb: 'set' } : { Verb: 'cas', Index: Number(ifRevision) }),
      };
      const size = Buffer.byteLength(JSON.stringify([{ KV: op }]));
      if (size > MAX_TXN_BYTES) throw kvTooLarge(ctx, 'put', full(key), size, MAX_TXN_BYTES, 'Consul txn_max_req_len; the base64 value counts');
      return call('put', key, async (c) => {
        try {
          const [, res] = await c.transaction.create([{ KV: op }], { ctx: withResponse() });
          return String(res.Results?.[0]?.KV.ModifyIndex);
        } catch (err) {
          const denied = txnErrors(err).find(isPermissionDenied);
          if (denied) throw kvForbidden(ctx, 'put', full(key), denied, err);
          if (!isConflict(err) || ifRevision === undefined) throw err;
          const actual = await getItem(c, key);
          throw kvConflict(ctx, 'put', key, ifRevision, actual ? String(actual.ModifyIndex) : '0');
        }
      });
    },

    async delete(key: string, opts: { ifRevision?: string } = {}): Promise<boolean> {
      checkKey(kind, key);
      const ifRevision = checkRevision(kind, opts.ifRevision);
      return call('delete', key, async (c) => {
        for (let attempt = 0; attempt < 20; attempt++) {
          const cur = await getItem(c, key);
          const actual = cur ? String(cur.ModifyIndex) : '0';
          if (ifRevision !== undefined && actual !== ifRevision) throw kvConflict(ctx, 'delete', key, ifRevision, actual);
          if (!cur) return false;
          if (await c.kv.del({ key: full(key), cas: cur.ModifyIndex })) return true;
          // Changed between the read and the delete: decide again against what is there now.
        }
        throw new Error('too much contention on the key');
      });
    },

    async list(prefix: string): Promise<{ entries: KvEntry[]; position: string }> {
      checkPrefix(kind, prefix);
      const res = await call('list', prefix, (c) => readTree(c, prefix));
      registry.remember(prefix, res.position, res.entries);
      return res;
    },

    watch(prefix: string, opts: KvWatchOptions = {}): KvWatch {
      checkPrefix(kind, prefix);
      checkRevision(kind, opts.fromPosition, 'fromPosition');
      let resetIndex = false;
      let seen: Set<string> | undefined = opts.fromPosition === undefined ? undefined : new Set(registry.find(prefix, opts.fromPosition)?.keys());
      /** Keys gone since the last read: deleted (404), or hidden by ACLs (403: fail, do not delete). */
      const confirmVanished = async (entries: KvEntry[]) => {
        const now = new Set(entries.map((e) => e.key));
        const gone = [...(seen ?? [])].filter((k) => !now.has(k)).slice(0, 16);
        await Promise.all(gone.map((k) => call('watch', k, (c) => getItem(c, k))));
        seen = now;
      };
      const watch = createDiffWatch({
        kind,
        prefix,
        registry,
        fromPosition: opts.fromPosition,
        signal: opts.signal,
        read: async (after, signal) => {
          const reqCtx = new EventEmitter();
          const cancel = () => reqCtx.emit('cancel');
          signal.addEventListener('abort', cancel, { once: true });
          // Index went backwards last time: read without blocking, then block from the new index.
          const index = after === undefined || resetIndex ? undefined : BigInt(after) < 1n ? '1' : after;
          resetIndex = false;
          const blocking = index === undefined ? {} : { index, wait: `${waitMs}ms`, timeout: blockMs };
          try {
            const res = await call('watch', prefix, (c) => readTree(c, prefix, { ...blocking, ctx: reqCtx }), blockMs + 1000);
            if (after !== undefined && BigInt(res.position) < BigInt(after)) resetIndex = true;
            await confirmVanished(res.entries);
            return res;
          } finally {
            signal.removeEventListener('abort', cancel);
          }
        },
        close: async () => {
          watches.delete(watch);
        },
      });
      watches.add(watch);
      return watch;
    },

    async close(): Promise<void> {
      if (closed) return;
      await Promise.all([...watches].map((w) => w.close()));
      closed = true;
      if (owned) client?.destroy?.();
    },
  };
}
