import type { KvEntry, KvStore, KvWatch, KvWatchEvent } from '../../engine/ports/kv-store.ts';
import { VeerError } from '../../engine/shared/errors.ts';

/**
 * A tiny in-memory KvStore for gateway unit tests (the real adapters have their own contract
 * suite). Revisions are a store-wide counter, like etcd's.
 */
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
    kind: 'memory',
    capabilities: { ttl: false },
    failing: false,
    check() {
      if (store.failing) throw new VeerError('KV.UNAVAILABLE', 'memory KV: unavailable (test switch)', { retryable: true });
    },
    async get(key: string): Promise<KvEntry | undefined> {
      store.check();
      const e = data.get(key);
      return e && { key, ...e };
    },
    async put(key: string, value: string, options: { ifRevision?: string } = {}) {
      store.check();
      const cur = data.get(key);
      if (options.ifRevision !== undefined && (cur?.revision ?? '0') !== options.ifRevision) {
        throw new VeerError('KV.CONFLICT', `memory KV: ${key} is at revision ${cur?.revision ?? '0'}, not ${options.ifRevision}`);
      }
      const revision = String(++counter);
      data.set(key, { value, revision });
      log.push({ type: 'put', key, value, revision, position: counter });
      wake();
      return revision;
    },
    async delete(key: string, options: { ifRevision?: string } = {}) {
      store.check();
      const cur = data.get(key);
      if (!cur) return false;
      if (options.ifRevision !== undefined && cur.revision !== options.ifRevision) throw new VeerError('KV.CONFLICT', `memory KV: ${key} changed`);
      data.delete(key);
      const revision = String(++counter);
      log.push({ type: 'delete', key, revision, position: counter });
      wake();
      return true;
    },
    async list(prefix: string) {
      store.check();
      const entries = [...data.entries()].filter(([k]) => k.startsWith(prefix)).map(([key, e]) => ({ key, ...e }));
      return { entries, position: String(counter) };
    },
    watch(prefix: string, options: { fromPosition?: string; signal?: AbortSignal } = {}): KvWatch {
      let position = options.fromPosition === undefined ? counter : Number(options.fromPosition);
      let closed = false;
      const close = async () => {
        closed = true;
        wake();
      };
      options.signal?.addEventListener('abort', () => void close(), { once: true });
      return {
        close,
        async *[Symbol.asyncIterator]() {
          while (!closed) {
            if (store.failing) throw new VeerError('KV.UNAVAILABLE', 'memory KV: watch lost (test switch)', { retryable: true });
            const next = log.find((e) => e.position > position && e.key.startsWith(prefix));
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
