import type { Workflow } from '../domain/workflow.ts';
import type { WorkflowStore } from '../ports/workflow-store.ts';

/**
 * What identifies a stored version beyond its number: a workflow deleted and uploaded again
 * numbers its versions from 1 again, and its creation time tells the two lifetimes apart.
 */
export const versionStamp = (wf: Pick<Workflow, 'createdAt' | 'updatedAt'>): string => `${wf.createdAt}/${wf.updatedAt}`;

export interface VersionCache {
  /**
   * The version a run was queued for. Served from memory when `stamp` (recorded at launch)
   * matches the cached copy — a stored version never changes — and read from the store
   * otherwise (no stamp, not cached, or the name was reused after a delete).
   */
  get(name: string, version: number, stamp: string | undefined): Promise<Workflow | undefined>;
}

export interface VersionCacheOptions {
  /** Versions kept at most (least recently used go first). Default 256. */
  maxEntries?: number;
  /** Characters of compiled scripts kept at most (a script may be 512 KiB). Default 32 Mi. */
  maxChars?: number;
}

/**
 * Each engine's copy of the workflow versions its runs execute, so a run does not fetch and
 * parse its version's JSON (the compiled script included) from Redis. Bounded LRU.
 */
export function createVersionCache(store: Pick<WorkflowStore, 'getVersion'>, options: VersionCacheOptions = {}): VersionCache {
  const maxEntries = options.maxEntries ?? 256;
  const maxChars = options.maxChars ?? 32 * 1024 * 1024;
  const entries = new Map<string, { wf: Workflow; stamp: string; chars: number }>();
  let chars = 0;

  const drop = (key: string) => {
    const e = entries.get(key);
    if (!e) return;
    entries.delete(key);
    chars -= e.chars;
  };

  return {
    async get(name, version, stamp) {
      const key = `${version}@${name}`;
      const hit = entries.get(key);
      if (hit && stamp !== undefined && hit.stamp === stamp) {
        // Map order is the recency order: move it to the back.
        entries.delete(key);
        entries.set(key, hit);
        return hit.wf;
      }
      const wf = await store.getVersion(name, version);
      drop(key);
      if (!wf) return undefined;
      const size = wf.compiled.length + wf.script.length;
      if (size > maxChars) return wf;
      entries.set(key, { wf, stamp: versionStamp(wf), chars: size });
      chars += size;
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries && chars <= maxChars) break;
        drop(oldest);
      }
      return wf;
    },
  };
}
