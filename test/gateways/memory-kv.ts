import { kvConflict, kvInvalid, kvUnavailable } from '../../adapters/kv/errors.ts';
import { byKey, checkKey, checkPrefix, checkRevision, checkTtl, underPrefix } from '../../adapters/kv/keys.ts';
import type { KvEntry, KvPutOptions, KvStore, KvWatch, KvWatchEvent, KvWatchOptions } from '../../engine/ports/kv-store.ts';

/**
 * A tiny in-memory KvStore for gateway unit tests. It passes the same contract suite as the
 * real stores (test/contract/kv.memory.test.ts), so what a test learns from it holds for them:
 * the key rules and error constructors are the adapters' own (adapters/kv/keys.ts, errors.ts).
 * Revisions are a store-wide counter, like etcd's, and every change is kept (history: true).
 *
 * capabilities.ttl is false: the double keeps no clock, and the agent tests built on it must
 * not depend on heartbeat expiry timing; expiry is covered by the Redis and etcd contract runs.
 */
const KIND = 'memory';
const CTX = { kind: KIND, url: 'in-process' };
const TTL_WHY = 'the in-memory test double keeps no clock (expiry is tested against Redis and etcd)';

export function createMemoryKv(): KvStore & { failing: boolean } {
  const data = new Map<string, { value: string; revision: string }>();
  const log: Array<KvWatchEvent & { position: number }> = [];
  const waiters = new Set<() => void>();
  let counter = 0;
  const wake = () => {
    for (const w of waiters) w();
    waiters.clear();
  };
  const store = {
    kind: KIND,
    capabilities: { ttl: false, history: true },
    /** Test switch: while true every call fails as an unreachable store would (KV.UNAVAILABLE). */
    failing: false,
    check(op: string, key: string) {
      if (store.failing) throw kvUnavailable(CTX, op, key, new Error('the test switch `failing` is on'));
    },
    async get(key: string): Promise<KvEntry | undefined> {
      store.check('get', key);
      checkKey(KIND, key);
      const e = data.get(key);
      return e && { key, ...e };
    },
    async put(key: string, value: string, options: KvPutOptions = {}) {
      store.check('put', key);
      checkKey(KIND, key);
      const expected = checkRevision(KIND, options.ifRevision);
      checkTtl(KIND, options.ttlSeconds, false, TTL_WHY);
      if (typeof value !== 'string') throw kvInvalid(KIND, `the value of ${key} must be a string`);
      const actual = data.get(key)?.revision ?? '0';
      if (expected !== undefined && actual !== expected) throw kvConflict(CTX, 'put', key, expected, actual);
      const revision = String(++counter);
      data.set(key, { value, revision });
      log.push({ type: 'put', key, value, revision, position: counter });
      wake();
      return revision;
    },
    async delete(key: string, options: { ifRevision?: string } = {}) {
      store.check('delete', key);
      checkKey(KIND, key);
      const expected = checkRevision(KIND, options.ifRevision);
      const cur = data.get(key);
      if (!cur) return false;
      if (expected !== undefined && cur.revision !== expected) throw kvConflict(CTX, 'delete', key, expected, cur.revision);
      data.delete(key);
      const revision = String(++counter);
      log.push({ type: 'delete', key, revision, position: counter });
      wake();
      return true;
    },
    async list(prefix: string) {
      store.check('list', prefix);
      checkPrefix(KIND, prefix);
      const entries = [...data.entries()].filter(([k]) => underPrefix(k, prefix)).map(([key, e]) => ({ key, ...e }));
      return { entries: entries.sort(byKey), position: String(counter) };
    },
    watch(prefix: string, options: KvWatchOptions = {}): KvWatch {
      checkPrefix(KIND, prefix);
      const from = checkRevision(KIND, options.fromPosition, 'fromPosition');
      let position = from === undefined ? counter : Number(from);
      let closed = false;
      const close = async () => {
        closed = true;
        wake();
      };
      if (options.signal?.aborted) closed = true;
      else options.signal?.addEventListener('abort', () => void close(), { once: true });
      return {
        close,
        async *[Symbol.asyncIterator]() {
          while (!closed) {
            store.check('watch', prefix);
            const next = log.find((e) => e.position > position && underPrefix(e.key, prefix));
            if (next) {
              position = next.position;
              const { position: _p, ...event } = next;
              yield event as KvWatchEvent;
              continue;
            }
            await new Promise<void>((r) => waiters.add(r));
          }
        },
      } as KvWatch;
    },
    async close() {
      wake();
    },
  };
  return store;
}
