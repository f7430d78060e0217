import { EventEmitter } from 'node:events';
import Consul from 'consul';
import type { Logger } from '../../engine/shared/logger.ts';
import { createDiffWatch, createSnapshotRegistry } from './diff-watch.ts';
import { kvConflict, kvInvalid, kvUnavailable, timeoutError, withTimeout, type KvErrorContext } from './errors.ts';
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
 *   KV.UNAVAILABLE.
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
  transaction: { create(ops: unknown[], opts: Record<string, unknown>): Promise<{ Results: Array<{ KV: Item }> | null }> };
  destroy?(): void;
}

const TTL_WHY = 'Consul expires keys only through sessions (TTL >= 10 s, invalidated up to 2x late, renewed by the holder), not per write';

export function createConsulKvStore(options: ConsulKvStoreOptions): KvStore {
  const kind = 'consul';
  const root = normalizeRoot(kind, options.prefix ?? 'veer');
  const timeoutMs = options.timeoutMs ?? 5000;
  const waitMs = options.watchWaitMs ?? 30_000;
  const ctx: KvErrorContext = { kind, url: options.url };
  const registry = createSnapshotRegistry();
  const watches = new Set<KvWatch>();
  let client = options.client as ConsulApi | undefined;
  const owned = !options.client;
  let closed = false;

  const full = (key: string) => `${root}/${key}`;
  const listKey = (prefix: string) => (prefix ? full(prefix) : `${root}/`);

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

  async function call<T>(op: string, key: string, fn: (c: ConsulApi) => Promise<T>, ms = timeoutMs): Promise<T> {
    const c = consul();
    try {
      return await withTimeout(fn(c), ms, () => timeoutError(ms));
    } catch (err) {
      if ((err as { code?: unknown })?.code === 'KV.CONFLICT') throw err;
      throw kvUnavailable(ctx, op, full(key), err);
    }
  }

  /** A recursive read: entries under the prefix and X-Consul-Index. */
  async function readTree(c: ConsulApi, prefix: string, extra: Record<string, unknown> = {}): Promise<{ entries: KvEntry[]; position: string }> {
    const reqCtx = (extra.ctx as EventEmitter | undefined) ?? new EventEmitter();
    Object.assign(reqCtx, { includeResponse: true });
    const [res, body] = (await c.kv.get({ key: listKey(prefix), recurse: true, ...extra, ctx: reqCtx })) as [
      { headers: Record<string, string> },
      Item[] | undefined,
    ];
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
      return call('put', key, async (c) => {
        try {
          const res = await c.transaction.create([{ KV: op }], {});
          return String(res.Results?.[0]?.KV.ModifyIndex);
        } catch (err) {
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
      const watch = createDiffWatch({
        kind,
        prefix,
        registry,
        fromPosition: opts.fromPosition,
        signal: opts.signal,
        read: (after, signal) => {
          const reqCtx = new EventEmitter();
          const cancel = () => reqCtx.emit('cancel');
          signal.addEventListener('abort', cancel, { once: true });
          const blocking = after === undefined ? {} : { index: after, wait: `${Math.ceil(waitMs / 1000)}s`, timeout: waitMs + timeoutMs };
          return call('watch', prefix, (c) => readTree(c, prefix, { ...blocking, ctx: reqCtx }), waitMs + timeoutMs + 1000).finally(() =>
            signal.removeEventListener('abort', cancel),
          );
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
