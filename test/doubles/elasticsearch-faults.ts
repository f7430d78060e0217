import { wildcard, type Index } from './elasticsearch-model.ts';
import type { ShardFaults } from './elasticsearch-search.ts';

/** What a busy or flaky cluster does, on demand: the protocol double's test hooks (test/doubles/elasticsearch.ts). */
export interface ElasticsearchFaultHooks {
  /** Test hook: the next `times` searches (default 1) fail the shards of indices matching `index` (partial results), or time out on them; the returned function ends it early. */
  failShards(o: { index: string; times?: number; timedOut?: boolean }): () => void;
  /** Test hook: writes to indices matching `pattern` stay unsearchable (through refreshes) until the returned release is called. */
  holdVisibility(pattern: string): () => void;
  /** Test hook: the next `n` bulk index/create items answer 429 `es_rejected_execution_exception` and are not written; the returned function ends it early. */
  rejectBulkItems(n: number): () => void;
  /** Test hook: the next `_bulk` is applied, then answered `status` (a proxy's 502 after the cluster did the work), so the client resends it. */
  applyNextBulkThenFail(status?: number): void;
}

/** The hooks, and what the endpoints ask of them; `indices` is the double's cluster state. */
export function createFaults(indices: Map<string, Index>) {
  const shardFaults: Array<{ re: RegExp; times: number; timedOut: boolean }> = [];
  const holds = new Set<RegExp>();
  let rejectItems = 0;
  let failBulkAfterApply: number | undefined;

  const hooks: ElasticsearchFaultHooks = {
    failShards({ index, times = 1, timedOut = false }) {
      const fault = { re: wildcard(index), times, timedOut };
      shardFaults.push(fault);
      return () => {
        fault.times = 0;
      };
    },
    holdVisibility(pattern) {
      const re = wildcard(pattern);
      holds.add(re);
      return () => {
        holds.delete(re);
        // Released documents are written now: searchable from the next refresh on, like a late write.
        for (const idx of indices.values()) if (re.test(idx.name)) for (const d of idx.docs.values()) d.held = false;
      };
    },
    rejectBulkItems(n) {
      rejectItems += n;
      return () => {
        rejectItems = 0;
      };
    },
    applyNextBulkThenFail(status = 502) {
      failBulkAfterApply = status;
    },
  };

  return {
    hooks,
    /** Whether a write to `index` is held back from refreshes now. */
    isHeld: (index: string) => [...holds].some((re) => re.test(index)),
    /** The shard faults a search over `targets` meets, used up by it: injected faults count once per search that touches a matching index. */
    takeShardFaults(targets: Index[]): ShardFaults {
      const active = shardFaults.filter((f) => f.times > 0 && targets.some((t) => f.re.test(t.name)));
      for (const f of active) f.times--;
      return { failing: active.filter((f) => !f.timedOut).map((f) => f.re), timedOut: active.filter((f) => f.timedOut).map((f) => f.re) };
    },
    /** Whether the next bulk index/create item is refused with 429 (and counts it). */
    takeBulkItemRejection(): boolean {
      if (rejectItems <= 0) return false;
      rejectItems--;
      return true;
    },
    /** The status to answer the `_bulk` just applied with instead of 200, once. */
    takeBulkFailure(): number | undefined {
      const status = failBulkAfterApply;
      failBulkAfterApply = undefined;
      return status;
    },
  };
}
