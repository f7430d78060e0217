import { createClient, Exception, type Client, type Stat, type Watcher } from 'node-zookeeper-client';
import type { Logger } from '../../engine/shared/logger.ts';
import { createDiffWatch, createSnapshotRegistry } from './diff-watch.ts';
import { kvConflict, kvInvalid, kvUnavailable, timeoutError, withTimeout, type KvErrorContext } from './errors.ts';
import { byKey, checkKey, checkPrefix, checkRevision, checkTtl, normalizeRoot } from './keys.ts';
import type { KvEntry, KvPutOptions, KvStore, KvWatch, KvWatchOptions } from '../../engine/ports/kv-store.ts';
import { raceAbort } from './watch-stream.ts';

/**
 * ZooKeeper store (node-zookeeper-client; the native `zookeeper` package does not load on
 * Node 24 here). Key 'gateways/shop' is the znode '/<prefix>/gateways/shop'.
 * - A value is a znode's data; parents created on the way have *no* data (null, not empty)
 *   and are not keys. Deleting a key that has children clears its data instead.
 * - revision = the znode's mzxid (the zxid of its last write), so revisions and positions
 *   are both zxids. CAS compares it, then writes with the znode version read alongside
 *   (setData/remove with version), so a write in between fails instead of being lost.
 * - list position = the highest zxid seen in the read. Watches re-read the subtree on every
 *   one-shot znode watch and diff (see diff-watch.ts): capabilities.history = false.
 * - A watch fails with KV.UNAVAILABLE when the session disconnects or expires.
 * - TTL: not supported. ZooKeeper TTL nodes need `zookeeper.extendedTypesEnabled` on the
 *   server and a client that speaks CREATE_TTL (node-zookeeper-client does not); ephemeral
 *   nodes live as long as the writer's session, which is not "expire without refresh".
 */
export interface ZookeeperKvStoreOptions {
  /** host:port[,host:port...] */
  url: string;
  /** Store prefix, default 'veer' (root znode '/veer'). */
  prefix?: string;
  /** Injected, connected or not (tests); not closed by close(). */
  client?: Client;
  logger?: Logger;
  /** Upper bound of every operation. Default 5000 ms. */
  timeoutMs?: number;
  sessionTimeoutMs?: number;
}

const TTL_WHY = 'ZooKeeper TTL nodes need zookeeper.extendedTypesEnabled and a client speaking CREATE_TTL, which node-zookeeper-client does not';

export function createZookeeperKvStore(options: ZookeeperKvStoreOptions): KvStore {
  const kind = 'zookeeper';
  const root = `/${normalizeRoot(kind, options.prefix ?? 'veer')}`;
  const timeoutMs = options.timeoutMs ?? 5000;
  const ctx: KvErrorContext = { kind, url: options.url };
  const owned = !options.client;
  const registry = createSnapshotRegistry();
  const watches = new Set<KvWatch>();
  let client = options.client;
  let closed = false;
  let listening = false;
  const lost = new Set<(err: Error) => void>();

  const path = (key: string) => (key ? `${root}/${key}` : root);

  function zk(): Client {
    if (closed) throw kvInvalid(kind, 'the store is closed');
    if (!client) {
      client = createClient(options.url, { sessionTimeout: options.sessionTimeoutMs ?? 10_000, spinDelay: 200, retries: 0 });
      client.connect();
    }
    if (!listening) {
      listening = true;
      const onLost = (why: string) => () => {
        for (const fail of lost) fail(new Error(why));
      };
      client.on('disconnected', onLost('connection to the ZooKeeper server lost'));
      client.on('expired', onLost('ZooKeeper session expired'));
    }
    return client;
  }

  /** Promisified client call with the store's deadline. */
  function op<T>(fn: (c: Client, cb: (err: unknown, value?: T) => void) => void): Promise<T> {
    const c = zk();
    const p = new Promise<T>((resolve, reject) => fn(c, (err, value) => (err ? reject(err) : resolve(value as T))));
    return withTimeout(p, timeoutMs, () => timeoutError(timeoutMs));
  }
  const code = (err: unknown) => (err as { code?: unknown })?.code;
  const is = (err: unknown, c: number) => code(err) === c;

  const getData = (p: string, watcher?: Watcher) =>
    op<[Buffer | undefined, Stat] | undefined>((c, cb) =>
      c.getData(p, watcher, (err, data, stat) => (is(err, Exception.NO_NODE) ? cb(null, undefined) : cb(err, [data, stat]))),
    );
  const zxid = (b: Buffer) => b.readBigInt64BE(0);

  async function ensureParents(p: string): Promise<void> {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const parent = `/${parts.slice(0, i).join('/')}`;
      await op<void>((c, cb) => c.create(parent, null, (err) => cb(is(err, Exception.NODE_EXISTS) ? null : err)));
    }
  }

  /** Creates the znode with its value; the multi's setData hands back the stat (mzxid). */
  const createWithStat = (p: string, data: Buffer) =>
    op<Stat | 'exists'>((c, cb) =>
      c
        .transaction()
        .create(p, data)
        .setData(p, data, 0)
        .commit((err, results) => (is(err, Exception.NODE_EXISTS) ? cb(null, 'exists') : cb(err, results?.[1]?.stat))),
    );

  async function guarded<T>(opName: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if ((err as { code?: unknown })?.code === 'KV.CONFLICT' || (err as { code?: unknown })?.code === 'KV.INVALID') throw err;
      throw kvUnavailable(ctx, opName, path(key), err);
    }
  }

  /** Reads the subtree at `key`; with a watcher, arms data+child watches on every znode (or an existence watch). */
  async function readTree(prefix: string, watcher?: Watcher): Promise<{ entries: KvEntry[]; position: string }> {
    const entries: KvEntry[] = [];
    let max = 0n;
    const seen = (s: Stat) => {
      for (const z of [zxid(s.mzxid), zxid(s.pzxid)]) if (z > max) max = z;
    };
    const visit = async (key: string): Promise<void> => {
      const got = await getData(path(key), watcher);
      if (!got) {
        // Gone (or not yet there): watch for its creation.
        if (watcher) await op<unknown>((c, cb) => c.exists(path(key), watcher, (err, stat) => cb(err, stat)));
        return;
      }
      const [data, stat] = got;
      seen(stat);
      if (data !== undefined && key !== '') entries.push({ key, value: data.toString('utf8'), revision: zxid(stat.mzxid).toString() });
      const children = await op<string[]>((c, cb) => c.getChildren(path(key), watcher, (err, list) => cb(is(err, Exception.NO_NODE) ? null : err, list ?? [])));
      await Promise.all(children.map((child) => visit(key ? `${key}/${child}` : child)));
    };
    // The root's pzxid moves with any change below it, giving a position even for an empty prefix.
    const rootStat = await op<Stat | null>((c, cb) => c.exists(root, undefined, (err, stat) => cb(err, stat)));
    if (rootStat) seen(rootStat);
    await visit(prefix);
    entries.sort(byKey);
    return { entries, position: max.toString() };
  }

  const current = async (key: string) => {
    const got = await getData(path(key));
    return got && got[0] !== undefined ? { stat: got[1], revision: zxid(got[1].mzxid).toString() } : { stat: got?.[1], revision: '0' };
  };

  return {
    kind,
    capabilities: { ttl: false, history: false },

    async get(key: string): Promise<KvEntry | undefined> {
      checkKey(kind, key);
      const got = await guarded('get', key, () => getData(path(key)));
      if (!got || got[0] === undefined) return undefined;
      return { key, value: got[0].toString('utf8'), revision: zxid(got[1].mzxid).toString() };
    },

    async put(key: string, value: string, opts: KvPutOptions = {}): Promise<string> {
      checkKey(kind, key);
      if (typeof value !== 'string') throw kvInvalid(kind, `the value of ${key} must be a string`);
      const ifRevision = checkRevision(kind, opts.ifRevision);
      checkTtl(kind, opts.ttlSeconds, false, TTL_WHY);
      const data = Buffer.from(value, 'utf8');
      const p = path(key);
      return guarded('put', key, async () => {
        for (let attempt = 0; ; attempt++) {
          if (attempt > 20) throw new Error('too much contention on the key');
          const cur = await current(key);
          if (ifRevision !== undefined && cur.revision !== ifRevision) throw kvConflict(ctx, 'put', key, ifRevision, cur.revision);
          if (!cur.stat) {
            await ensureParents(p);
            const stat = await createWithStat(p, data);
            if (stat !== 'exists') return zxid(stat.mzxid).toString();
            continue; // created concurrently: decide again against what is there now
          }
          const stat = await op<Stat | 'changed' | 'gone'>((c, cb) =>
            c.setData(p, data, cur.stat!.version, (err, s) =>
              cb(is(err, Exception.BAD_VERSION) ? null : is(err, Exception.NO_NODE) ? null : err, err ? (is(err, Exception.NO_NODE) ? 'gone' : 'changed') : s),
            ),
          );
          if (typeof stat === 'object') return zxid(stat.mzxid).toString();
        }
      });
    },

    async delete(key: string, opts: { ifRevision?: string } = {}): Promise<boolean> {
      checkKey(kind, key);
      const ifRevision = checkRevision(kind, opts.ifRevision);
      const p = path(key);
      return guarded('delete', key, async () => {
        for (let attempt = 0; ; attempt++) {
          if (attempt > 20) throw new Error('too much contention on the key');
          const cur = await current(key);
          if (ifRevision !== undefined && cur.revision !== ifRevision) throw kvConflict(ctx, 'delete', key, ifRevision, cur.revision);
          if (cur.revision === '0') return false;
          const version = cur.stat!.version;
          const outcome = await op<'done' | 'retry' | 'has-children'>((c, cb) =>
            c.remove(p, version, (err) =>
              cb(
                is(err, Exception.NOT_EMPTY) ? null : is(err, Exception.BAD_VERSION) || is(err, Exception.NO_NODE) ? null : err,
                is(err, Exception.NOT_EMPTY) ? 'has-children' : err ? 'retry' : 'done',
              ),
            ),
          );
          if (outcome === 'done') return true;
          if (outcome === 'has-children') {
            // Children are other keys: keep the znode, drop only this key's value.
            // (a multi, because the client's plain setData cannot send null data)
            const cleared = await op<boolean>((c, cb) =>
              c
                .transaction()
                .setData(p, null, version)
                .commit((err) => cb(is(err, Exception.BAD_VERSION) || is(err, Exception.NO_NODE) ? null : err, !err)),
            );
            if (cleared) return true;
          }
        }
      });
    },

    async list(prefix: string): Promise<{ entries: KvEntry[]; position: string }> {
      checkPrefix(kind, prefix);
      const res = await guarded('list', prefix, () => readTree(prefix));
      registry.remember(prefix, res.position, res.entries);
      return res;
    },

    watch(prefix: string, opts: KvWatchOptions = {}): KvWatch {
      checkPrefix(kind, prefix);
      checkRevision(kind, opts.fromPosition, 'fromPosition');
      let dirty = true;
      let wake: (() => void) | undefined;
      let failure: Error | undefined;
      let active = true;
      // One function per watch: the client keeps one registration per (path, function).
      const watcher: Watcher = () => {
        if (!active) return;
        dirty = true;
        wake?.();
      };
      const onLost = (err: Error) => {
        failure ??= kvUnavailable(ctx, 'watch', path(prefix), err);
        wake?.();
      };
      lost.add(onLost);
      const watch = createDiffWatch({
        kind,
        prefix,
        registry,
        fromPosition: opts.fromPosition,
        signal: opts.signal,
        read: async (after, signal) => {
          while (after !== undefined && !dirty && !failure) {
            await raceAbort(new Promise<void>((resolve) => (wake = resolve)), signal);
          }
          if (failure) throw failure;
          dirty = false;
          return guarded('watch', prefix, () => readTree(prefix, watcher));
        },
        close: async () => {
          active = false;
          lost.delete(onLost);
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
      if (owned) client?.close();
    },
  };
}
