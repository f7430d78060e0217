/**
 * KvStore: the small key-value store gateways live in (etcd, Consul, ZooKeeper, or Redis
 * by default). Keys are '/'-separated paths relative to the store's prefix. Values are
 * strings (JSON by convention). Every write is all-or-nothing.
 *
 * Errors (VeerError codes): `KV.UNAVAILABLE` (retryable; the store is down or failing; a
 * write that fails this way was applied whole or not at all), `KV.CONFLICT` (an
 * `ifRevision` did not match; `details.expected` / `details.actual`), `KV.INVALID` (bad
 * key, prefix, position or option), `KV.COMPACTED` (a watch position the store can no
 * longer serve: `list()` again and watch from the new position). Every call fails within
 * the adapter's timeout when the store is unreachable; none hangs.
 *
 * Prefixes match whole segments: 'gateways' covers 'gateways' and 'gateways/shop' but not
 * 'gateways2'; '' covers every key.
 */
export interface KvEntry {
  key: string;
  value: string;
  /**
   * Opaque, store-specific version of this key, as a decimal string; changes on every
   * write. Pass it back to `put({ ifRevision })` for compare-and-set.
   */
  revision: string;
}

export type KvWatchEvent = { type: 'put'; key: string; value: string; revision: string } | { type: 'delete'; key: string; revision: string };

export interface KvPutOptions {
  /** Compare-and-set: write only if the key's current revision equals this; `'0'` means "only if absent". */
  ifRevision?: string;
  /** Expire the key after this many seconds without a refresh (agent heartbeats). Optional ability: see `capabilities.ttl`. */
  ttlSeconds?: number;
}

export interface KvWatchOptions {
  /**
   * Deliver every change after this store-wide position (from `list().position` or a
   * previous event). Without it, the watch starts "now". Implementations must not lose a
   * change made between the `list()` that produced the position and the watch starting.
   * Stores without change history (capabilities.history false) serve only positions this
   * store instance handed out (from its `list()` or its watches' events); others fail the
   * watch with KV.COMPACTED. Without `fromPosition` the watch starts when it is established,
   * shortly after the call: pass a position to be sure nothing is missed.
   */
  fromPosition?: string;
  signal?: AbortSignal;
}

export interface KvWatch {
  /**
   * Changes in order. Ends when the watch is closed or its signal aborts. Throws (and ends)
   * with KV.UNAVAILABLE when the store connection is lost (resume with `fromPosition` = the
   * last event's revision) or KV.COMPACTED (list again).
   */
  [Symbol.asyncIterator](): AsyncIterator<KvWatchEvent>;
  close(): Promise<void>;
}

export interface KvStore {
  /** Which store this is, for messages: 'etcd', 'consul', 'zookeeper', 'redis'. */
  readonly kind: string;
  readonly capabilities: {
    /** `put({ ttlSeconds })` works; without it such a put fails with KV.INVALID. Expiry shows as a `delete` event. */
    ttl: boolean;
    /**
     * Every intermediate change is delivered (etcd, Redis). `false` (Consul, ZooKeeper: they
     * keep no change log) means a watcher always reaches the latest state of every key, in
     * order, but changes that happen quickly one after another may be coalesced. Default true.
     */
    history?: boolean;
  };
  get(key: string): Promise<KvEntry | undefined>;
  /**
   * Writes `value`. With `ifRevision`, fails with a `KV.CONFLICT` error when the current
   * revision differs. Returns the new revision.
   */
  put(key: string, value: string, options?: KvPutOptions): Promise<string>;
  /** Deletes the key; with `ifRevision`, only if unchanged. Returns whether it existed. */
  delete(key: string, options?: { ifRevision?: string }): Promise<boolean>;
  /** All keys under the prefix, sorted by key, and the store-wide position to start a lossless watch from. */
  list(prefix: string): Promise<{ entries: KvEntry[]; position: string }>;
  /** Changes under the prefix, from `fromPosition` when given. */
  watch(prefix: string, options?: KvWatchOptions): KvWatch;
  close(): Promise<void>;
}
