import type { Redis } from 'ioredis';
import { connectRedis, singleRedis, type RedisTarget } from '../redis/target.ts';
import type { Logger } from '../../engine/shared/logger.ts';
import { kvCompacted, kvConflict, kvInvalid, kvUnavailable, timeoutError, withTimeout, type KvErrorContext } from './errors.ts';
import { byKey, checkKey, checkPrefix, checkRevision, checkTtl, normalizeRoot, underPrefix } from './keys.ts';
import type { KvEntry, KvPutOptions, KvStore, KvWatch, KvWatchEvent, KvWatchOptions } from '../../engine/ports/kv-store.ts';
import { scripts, type LuaScript } from './redis-scripts.ts';
import { createKvWatch, raceAbort } from './watch-stream.ts';
import { readStream, type StreamEntry } from '../redis/stream-reader.ts';

/**
 * The embedded default KV store, on the Redis the engine already needs.
 *
 * Integration (stable): `createRedisKvStore({ url, prefix })`, e.g.
 *   createRedisKvStore({ url: 'redis://127.0.0.1:6379', prefix: 'veer' })
 * Keys live under the hash tag `{<prefix>:kv}` (layout in redis-scripts.ts).
 *
 * - revision: the store-wide counter value of the key's last write; a position is the same
 *   counter, so `list().position` and every event's `revision` can start a watch.
 * - watch: XREAD BLOCK on the change stream (adapters/redis/stream-reader.ts), on a dedicated connection per watch. The log is
 *   trimmed to about `logMaxLen` entries; a watcher that falls behind it (or starts from a
 *   position older than it) fails with KV.COMPACTED. A lost connection fails the watch with
 *   KV.UNAVAILABLE; resume with `watch(prefix, { fromPosition: lastEvent.revision })`.
 * - TTL: PEXPIRE on the key's hash (reads stop seeing it at once) plus an expiry index; the
 *   key is removed with a `delete` event by the next write/list on the store or, while any
 *   watch is open in this process, within `reapIntervalMs` of expiring.
 */
export interface RedisKvStoreOptions {
  /** redis:// URL (the engine's VEER_REDIS_URL by default, through config). */
  url: string;
  /** The installation's Redis when it is a Cluster or Sentinels (then `url` only names it). */
  target?: RedisTarget;
  /** Store prefix; keys live under `{<prefix>:kv}:`. Default 'veer'. */
  prefix?: string;
  /** Injected client (tests, or sharing the engine's). Not closed by `close()`; must not use `keyPrefix`. */
  client?: Redis;
  logger?: Logger;
  /** Upper bound of every operation, including connecting. Default 5000 ms. */
  timeoutMs?: number;
  /** Approximate length the change log is trimmed to. Default 10 000. */
  logMaxLen?: number;
  /** How often an open watch reaps expired keys. Default 1000 ms. */
  reapIntervalMs?: number;
  /** XREAD BLOCK time per round trip of a watch. Default 5000 ms. */
  blockMs?: number;
}

export function createRedisKvStore(options: RedisKvStoreOptions): KvStore {
  const kind = 'redis';
  const root = normalizeRoot(kind, options.prefix ?? 'veer');
  const base = `{${root.replaceAll('/', ':')}:kv}`;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxLen = String(options.logMaxLen ?? 10_000);
  const reapIntervalMs = options.reapIntervalMs ?? 1000;
  const blockMs = options.blockMs ?? 5000;
  const ctx: KvErrorContext = { kind, url: redactUrl(options.url) };
  const log = options.logger?.child({ component: 'kv', store: kind });
  const owned = !options.client;
  let client: Redis | undefined = options.client;
  const watches = new Set<KvWatch>();
  let reaper: NodeJS.Timeout | undefined;
  let closed = false;

  function connection(): Redis {
    if (closed) throw kvInvalid(kind, 'the store is closed');
    if (!client) {
      client = connectRedis(options.target ?? singleRedis(options.url), {
        lazyConnect: true,
        connectTimeout: timeoutMs,
        commandTimeout: timeoutMs,
        maxRetriesPerRequest: 1,
        retryStrategy: (times) => Math.min(100 * times, 2000),
      });
      let down = false;
      client.on('error', (err) => {
        if (!down) log?.warn({ err: err.message }, 'redis KV connection error');
        down = true;
      });
      client.on('ready', () => {
        down = false;
      });
    }
    return client;
  }

  async function call<T>(op: string, key: string, fn: (c: Redis) => Promise<T>): Promise<T> {
    const c = connection();
    try {
      return await withTimeout(fn(c), timeoutMs, () => timeoutError(timeoutMs));
    } catch (err) {
      throw kvUnavailable(ctx, op, `${root}/${key}`, err);
    }
  }

  async function run(c: Redis, script: LuaScript, args: string[]): Promise<unknown> {
    try {
      return await c.evalsha(script.sha, 1, base, maxLen, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return c.eval(script.lua, 1, base, maxLen, ...args);
    }
  }

  function startReaper(): void {
    if (reaper || reapIntervalMs <= 0) return;
    reaper = setInterval(() => {
      run(connection(), scripts.reap, []).catch((err) => log?.debug({ err: String(err) }, 'redis KV reap failed'));
    }, reapIntervalMs);
    reaper.unref();
  }
  function stopReaperIfIdle(): void {
    if (watches.size === 0 && reaper) {
      clearInterval(reaper);
      reaper = undefined;
    }
  }

  return {
    kind,
    capabilities: { ttl: true, history: true },

    async get(key: string): Promise<KvEntry | undefined> {
      checkKey(kind, key);
      const [value, revision] = await call('get', key, (c) => c.hmget(`${base}:k:${key}`, 'v', 'r'));
      return value === null || revision === null ? undefined : { key, value, revision };
    },

    async put(key: string, value: string, opts: KvPutOptions = {}): Promise<string> {
      checkKey(kind, key);
      if (typeof value !== 'string') throw kvInvalid(kind, `the value of ${key} must be a string`);
      const ifRevision = checkRevision(kind, opts.ifRevision) ?? '';
      const ttl = checkTtl(kind, opts.ttlSeconds, true);
      const ttlMs = ttl === undefined ? '' : String(Math.max(1, Math.round(ttl * 1000)));
      const res = (await call('put', key, (c) => run(c, scripts.put, [key, value, ifRevision, ttlMs]))) as [number, string | number];
      if (res[0] !== 1) throw kvConflict(ctx, 'put', key, ifRevision, String(res[1]));
      return String(res[1]);
    },

    async delete(key: string, opts: { ifRevision?: string } = {}): Promise<boolean> {
      checkKey(kind, key);
      const ifRevision = checkRevision(kind, opts.ifRevision) ?? '';
      const res = (await call('delete', key, (c) => run(c, scripts.delete, [key, ifRevision]))) as [number, string | number];
      if (res[0] !== 1) throw kvConflict(ctx, 'delete', key, ifRevision, String(res[1]));
      return Number(res[1]) === 1;
    },

    async list(prefix: string): Promise<{ entries: KvEntry[]; position: string }> {
      checkPrefix(kind, prefix);
      const res = (await call('list', prefix, (c) => run(c, scripts.list, [prefix]))) as string[];
      const entries: KvEntry[] = [];
      for (let i = 1; i + 2 < res.length; i += 3) entries.push({ key: res[i], value: res[i + 1], revision: String(res[i + 2]) });
      entries.sort(byKey);
      return { entries, position: String(res[0]) };
    },

    watch(prefix: string, opts: KvWatchOptions = {}): KvWatch {
      checkPrefix(kind, prefix);
      const from = checkRevision(kind, opts.fromPosition, 'fromPosition');
      const main = connection();
      // Ask for "now" immediately: commands run in order on one connection, so a write
      // issued after watch() returns is after this position.
      const position: Promise<bigint> =
        from !== undefined ? Promise.resolve(BigInt(from)) : call('watch', prefix, (c) => c.get(`${base}:rev`)).then((v) => BigInt(v ?? '0'));
      position.catch(() => undefined);
      // One blocking reader per watch (the shared stream reader); it never retries on its own:
      // a lost connection fails the watch, and the caller resumes from its last revision.
      let after = 0n;
      let reader: AsyncGenerator<StreamEntry[]> | undefined;
      const watch = createKvWatch(
        {
          pull: async (signal) => {
            reader ??= readStream({
              connect: () => {
                const once = { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null };
                // An injected client is duplicated (its server); our own is rebuilt from the target
                // (a Cluster's duplicate takes other arguments).
                return options.client
                  ? main.duplicate({ ...once, commandTimeout: undefined })
                  : connectRedis(options.target ?? singleRedis(options.url), { ...once, connectTimeout: timeoutMs });
              },
              key: `${base}:log`,
              from: position.then((p) => ((after = p), `${p}-0`)),
              count: 256,
              blockMs,
              timeoutMs,
              signal,
            });
            for (;;) {
              let next: IteratorResult<StreamEntry[]>;
              try {
                next = await raceAbort(reader.next(), signal);
              } catch (err) {
                if (signal.aborted) return [];
                throw kvUnavailable(ctx, 'watch', `${root}/${prefix}`, err);
              }
              if (next.done) return [];
              const events: KvWatchEvent[] = [];
              let expected = after + 1n;
              for (const [id, fields] of next.value) {
                const rev = BigInt(id.split('-')[0]);
                if (rev !== expected) {
                  throw kvCompacted(
                    kind,
                    prefix,
                    String(after),
                    `changes after revision ${expected - 1n} were trimmed from the change log (VEER_KV log keeps about ${maxLen} changes)`,
                  );
                }
                expected = rev + 1n;
                const f = toFields(fields);
                if (!underPrefix(f.k, prefix)) continue;
                events.push(
                  f.t === 'put' ? { type: 'put', key: f.k, value: f.v ?? '', revision: String(rev) } : { type: 'delete', key: f.k, revision: String(rev) },
                );
              }
              after = expected - 1n;
              if (events.length) return events;
            }
          },
          close: async () => {
            // The watch's signal already aborted, which drops the reader's connection.
            void reader?.return(undefined).catch(() => undefined);
            watches.delete(watch);
            stopReaperIfIdle();
          },
        },
        opts.signal,
      );
      watches.add(watch);
      startReaper();
      return watch;
    },

    async close(): Promise<void> {
      if (closed) return;
      await Promise.all([...watches].map((w) => w.close()));
      closed = true;
      if (reaper) clearInterval(reaper);
      if (owned && client) {
        await withTimeout(client.quit(), timeoutMs, () => timeoutError(timeoutMs)).catch(() => client?.disconnect());
      }
    },
  };
}

function toFields(flat: string[]): { t: string; k: string; v?: string } {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out as { t: string; k: string; v?: string };
}

/** Never print a password in an error message. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
