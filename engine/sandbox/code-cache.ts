import ivm from 'isolated-vm';
import { keyMatches } from './code-key.ts';

/**
 * What a sandbox child keeps of each workflow version's code between runs (code-key.ts names
 * it): the script's source, so the host need not send it with every run, and V8's code cache for
 * it (`cachedData`), so a fresh isolate skips most of the parse. Both are the child's own: the
 * source came from the engine, the cachedData from compiling that very source in this process —
 * never from a user (isolated-vm CVE-2022-39266). V8 checks cachedData only against the source's
 * length, which is why an entry's cachedData never serves any source but the entry's own.
 * Bounded LRU by entries and bytes.
 */
export interface CodeEntry {
  readonly key: string;
  readonly code: string;
  cachedData?: ivm.ExternalCopy<ArrayBuffer>;
  cachedBytes: number;
}

export interface CodeCache {
  /** The entry for `key`, marked recently used; undefined on a miss. */
  get(key: string): CodeEntry | undefined;
  /** Stores `code` under `key`; refuses (returns undefined) when the key does not name this code. */
  put(key: string, code: string): CodeEntry | undefined;
  /** Keeps the cachedData V8 produced for an entry (counted against the byte bound). */
  keepCachedData(entry: CodeEntry, data: ivm.ExternalCopy<ArrayBuffer>): void;
  /** Drops cachedData V8 rejected. */
  dropCachedData(entry: CodeEntry): void;
  stats(): { entries: number; bytes: number };
}

export function createCodeCache(maxEntries: number, maxBytes: number): CodeCache {
  const entries = new Map<string, CodeEntry>();
  let bytes = 0;
  const size = (e: CodeEntry) => e.code.length * 2 + e.cachedBytes;
  const evict = () => {
    while (entries.size > maxEntries || (bytes > maxBytes && entries.size > 1)) {
      const oldest = entries.values().next().value!;
      entries.delete(oldest.key);
      bytes -= size(oldest);
      oldest.cachedData?.release();
    }
  };
  const dropCachedData = (entry: CodeEntry) => {
    if (!entry.cachedData) return;
    const inCache = entries.get(entry.key) === entry;
    if (inCache) bytes -= entry.cachedBytes;
    entry.cachedData.release();
    entry.cachedData = undefined;
    entry.cachedBytes = 0;
  };
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entries.delete(key);
      entries.set(key, entry);
      return entry;
    },
    put(key, code) {
      if (!keyMatches(key, code)) return undefined;
      const old = entries.get(key);
      if (old) return this.get(key);
      const entry: CodeEntry = { key, code, cachedBytes: 0 };
      entries.set(key, entry);
      bytes += size(entry);
      evict();
      return entry;
    },
    keepCachedData(entry, data) {
      dropCachedData(entry);
      entry.cachedData = data;
      // ExternalCopy does not tell its size; one copy out, once per entry, does.
      entry.cachedBytes = data.copy().byteLength;
      if (entries.get(entry.key) === entry) {
        bytes += entry.cachedBytes;
        evict();
      }
    },
    dropCachedData,
    stats: () => ({ entries: entries.size, bytes }),
  };
}

/**
 * Compiles a module, using and producing cachedData through `entry` (when given). A rejected
 * cachedData (V8 flags changed) is dropped; the next compile produces it again.
 */
export async function compileModuleCached(isolate: ivm.Isolate, cache: CodeCache, entry: CodeEntry, filename: string): Promise<ivm.Module> {
  const cachedData = entry.cachedData;
  const module = await isolate.compileModule(entry.code, cachedData ? { filename, cachedData } : { filename, produceCachedData: true });
  // isolated-vm sets these on the returned module; its typings do not list them.
  const out = module as ivm.Module & { cachedData?: ivm.ExternalCopy<ArrayBuffer>; cachedDataRejected?: boolean };
  if (cachedData && out.cachedDataRejected === true) cache.dropCachedData(entry);
  else if (!cachedData && out.cachedData) cache.keepCachedData(entry, out.cachedData);
  return module;
}
