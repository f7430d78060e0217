import { kvCompacted } from './errors.ts';
import { underPrefix } from './keys.ts';
import type { KvEntry, KvWatch, KvWatchEvent } from '../../engine/ports/kv-store.ts';
import { createKvWatch } from './watch-stream.ts';

/**
 * Watching for stores that keep no change log (Consul, ZooKeeper): they can say "something
 * under this prefix changed" (a blocking query, a one-shot znode watch) but not what. The
 * watch re-reads the subtree and diffs it against the state the consumer already has.
 *
 * "From a position" therefore needs the state at that position. This store instance
 * remembers the states it handed out: every list() result, and the state a watch had
 * delivered when it ended. A watch from such a position diffs against it, so nothing
 * between list() and watch() is lost; a position it does not know fails with KV.COMPACTED.
 *
 * Consequence: quick successive changes of one key may reach the watcher as one event
 * (capabilities.history = false); a key created and deleted between two reads is not seen.
 */
type State = Map<string, KvEntry>;

export interface SnapshotRegistry {
  remember(prefix: string, position: string, entries: Iterable<KvEntry>): void;
  /** The state under `prefix` at `position`, from a remembered state of it or of an enclosing prefix. */
  find(prefix: string, position: string): State | undefined;
}

export function createSnapshotRegistry(limit = 64): SnapshotRegistry {
  const states = new Map<string, { prefix: string; position: string; state: State }>();
  return {
    remember(prefix, position, entries) {
      const id = `${position}\u0000${prefix}`;
      states.delete(id);
      states.set(id, { prefix, position, state: new Map([...entries].map((e) => [e.key, e])) });
      while (states.size > limit) states.delete(states.keys().next().value!);
    },
    find(prefix, position) {
      for (const s of [...states.values()].reverse()) {
        if (s.position !== position || !underPrefix(prefix, s.prefix)) continue;
        return new Map([...s.state].filter(([k]) => underPrefix(k, prefix)));
      }
      return undefined;
    },
  };
}

export interface DiffWatchOptions {
  kind: string;
  prefix: string;
  fromPosition?: string;
  registry: SnapshotRegistry;
  /**
   * The subtree's entries and a position. Without `after`, now; with it, once the subtree
   * may have changed since the read that returned `after` (blocking until then, or giving
   * up after a while with the same state). Rejects with a typed error on store loss.
   */
  read(after: string | undefined, signal: AbortSignal): Promise<{ entries: KvEntry[]; position: string }>;
  close(): Promise<void>;
  signal?: AbortSignal;
}

export function createDiffWatch(options: DiffWatchOptions): KvWatch {
  const { kind, prefix, registry } = options;
  let pulled: State | undefined; // state after the last batch read
  let delivered: State | undefined; // state after the last event the consumer took
  let deliveredPosition = options.fromPosition;
  let position: string | undefined;

  if (options.fromPosition !== undefined) {
    pulled = registry.find(prefix, options.fromPosition);
    delivered = pulled && new Map(pulled);
  }

  return createKvWatch(
    {
      async pull(signal) {
        if (options.fromPosition !== undefined && !pulled) {
          throw kvCompacted(
            kind,
            prefix,
            options.fromPosition,
            `${kind} keeps no change history and this store instance did not hand out that position (use a position from its list() or its watch events)`,
          );
        }
        for (;;) {
          const res = await options.read(position, signal);
          if (signal.aborted) return [];
          position = res.position;
          const next: State = new Map(res.entries.filter((e) => underPrefix(e.key, prefix)).map((e) => [e.key, e]));
          if (!pulled) {
            // A watch from "now": this first read is the baseline, not a change.
            pulled = next;
            delivered = new Map(next);
            deliveredPosition = res.position;
            continue;
          }
          const events: KvWatchEvent[] = [];
          for (const [key, e] of next) {
            if (pulled.get(key)?.revision !== e.revision) events.push({ type: 'put', key, value: e.value, revision: e.revision });
          }
          for (const key of pulled.keys()) {
            if (!next.has(key)) events.push({ type: 'delete', key, revision: res.position });
          }
          pulled = next;
          if (events.length) {
            return events.sort((a, b) => {
              const d = BigInt(a.revision) - BigInt(b.revision);
              return d < 0n ? -1 : d > 0n ? 1 : 0;
            });
          }
        }
      },
      delivered(event) {
        if (event.type === 'put') delivered?.set(event.key, { key: event.key, value: event.value, revision: event.revision });
        else delivered?.delete(event.key);
        deliveredPosition = event.revision;
      },
      async close() {
        if (delivered && deliveredPosition !== undefined) registry.remember(prefix, deliveredPosition, delivered.values());
        await options.close();
      },
    },
    options.signal,
  );
}
