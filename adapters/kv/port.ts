/**
 * KvStore: the small key-value store gateways live in (etcd, Consul, ZooKeeper, or Redis
 * by default). Keys are '/'-separated paths relative to the store's prefix. Values are
 * strings (JSON by convention). Every write is all-or-nothing.
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

export type KvWatchEvent =
  | { type: 'put'; key: string; value: string; revision: string }
  | { type: 'delete'; key: string; revision: string };

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
   */
  fromPosition?: string;
  signal?: AbortSignal;
}

export interface KvWatch {
  /** Changes in order. Ends when the watch is closed or its signal aborts. */
  [Symbol.asyncIterator](): AsyncIterator<KvWatchEvent>;
  close(): Promise<void>;
}

export interface KvStore {
  /** Which store this is, for messages: 'etcd', 'consul', 'zookeeper', 'redis'. */
  readonly kind: string;
  readonly capabilities: { ttl: boolean };
  get(key: string): Promise<KvEntry | undefined>;
  /**
   * Writes `value`. With `ifRevision`, fails with a `KV.CONFLICT` error when the current
   * revision differs. Returns the new revision.
   */
  put(key: string, value: string, options?: KvPutOptions): Promise<string>;
  /** Deletes the key; with `ifRevision`, only if unchanged. Returns whether it existed. */
  delete(key: string, options?: { ifRevision?: string }): Promise<boolean>;
  /** All keys under the prefix, and the store-wide position to start a lossless watch from. */
  list(prefix: string): Promise<{ entries: KvEntry[]; position: string }>;
  /** Changes under the prefix, from `fromPosition` when given. */
  watch(prefix: string, options?: KvWatchOptions): KvWatch;
  close(): Promise<void>;
}
