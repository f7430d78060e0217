import type { Lease } from './coordination.ts';

/**
 * NotifierStore: notifier definitions (where Veer posts which events), each notifier's
 * durable position in the event store, and its recent delivery attempts. Cursor writes are
 * the delivering engine's only while it holds `lease`, and only while the notifier exists
 * (a delivery that raced a DELETE leaves nothing behind).
 *
 * Errors: `<STORE>.UNAVAILABLE` (retryable) when the backing store cannot be reached.
 */
export interface NotifierSpec {
  url: string;
  /** Which events: all of `tags` on the event (none: any), and the type in `types` (absent or empty: any; `run.*` globs). */
  events: { tags: string[]; types?: string[] };
  format: 'json' | 'slack';
  /** HMAC-SHA256 key: deliveries carry `X-Veer-Signature: sha256=<hex of HMAC(secret, timestamp + "." + body)>`. */
  secret?: string;
  /** No meaning to Veer (the API shows `{}` for notifiers stored before they existed). */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Notifier extends NotifierSpec {
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface Delivery {
  eventId: string;
  eventType: string;
  /** One try of one event. */
  attempt: number;
  status: 'delivered' | 'retrying' | 'failed';
  /** HTTP status of the answer, absent when there was none (timeout, refused). */
  httpStatus?: number;
  error?: string;
  ms: number;
  at: string;
}

export interface NotifierStore {
  /**
   * Creates or replaces a notifier. `start` becomes its cursor when it is created (the event
   * store's head: a new notifier sends only what comes after it); a replaced one keeps its cursor.
   */
  put(name: string, spec: NotifierSpec, now: string, start: string): Promise<{ notifier: Notifier; created: boolean }>;
  get(name: string): Promise<Notifier | undefined>;
  list(): Promise<Notifier[]>;
  /** Removes the notifier, its cursor and its deliveries; whether it existed. */
  delete(name: string): Promise<boolean>;
  /** Where this notifier resumes: opaque to the store (the worker's encoding of an event-store checkpoint). */
  cursor(name: string): Promise<string | undefined>;
  /** Moves the cursor, only while `lease` is held and the notifier exists; false otherwise. */
  saveCursor(name: string, checkpoint: string, lease: Lease): Promise<boolean>;
  /** Appends an attempt while the notifier exists; the store keeps the newest `keep` per notifier. */
  recordDelivery(name: string, delivery: Delivery, keep: number): Promise<void>;
  /** Newest first. */
  deliveries(name: string, limit: number): Promise<Delivery[]>;
}
