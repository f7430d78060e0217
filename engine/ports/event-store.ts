import type { NewEvent, VeerEvent } from '../domain/event.ts';

/**
 * EventStore: where every event lands (Redis Streams by default, or Elasticsearch).
 * Ids are assigned by the store and sort in append order within it, so an id doubles
 * as a paging cursor and as an SSE `Last-Event-ID`.
 */
export interface EventQuery {
  /** All must be on the event (stored tags are expanded, so `group` matches `group:name`). */
  tags?: string[];
  type?: string;
  /** Inclusive bounds on the event's `timestamp` (epoch ms). */
  since?: number;
  until?: number;
  /** Page size; default 50, at most 1000. */
  limit?: number;
  /** Exclusive: continue after this event id (a previous page's `nextCursor`, or any event id). */
  cursor?: string;
  /** `desc` (default): newest appended first. `asc`: oldest first (replay after an id). */
  order?: 'asc' | 'desc';
}

export interface EventPage {
  events: VeerEvent[];
  /**
   * Present when more may follow; pass it back as `cursor`. A page can hold fewer than
   * `limit` events while a cursor is still returned (the store bounds the work per call).
   */
  nextCursor?: string;
}

/** One step of a tail: events in append order, then the position after them. */
export interface TailBatch {
  events: VeerEvent[];
  /** Opaque; persist it and pass it back as `from` to resume after these events. */
  checkpoint: string;
}

export interface TailOptions {
  /** A checkpoint from `head()` or a previous batch. */
  from: string;
  signal: AbortSignal;
}

export interface EventStore {
  /** 'redis' or 'elasticsearch', for messages. */
  readonly kind: string;
  /** Stores the event and returns it with its id. Throws `EVENTS.UNAVAILABLE` when the store is down. */
  append(event: NewEvent): Promise<VeerEvent>;
  query(query: EventQuery): Promise<EventPage>;
  /** The checkpoint of "now": tailing from it yields only events appended afterwards. */
  head(): Promise<string>;
  /**
   * Every event appended after `from`, in append order, as batches, until `signal` aborts
   * (the iterator then ends quietly). Store errors end the iteration with a throw; resume
   * from the last checkpoint you persisted.
   */
  tail(options: TailOptions): AsyncIterable<TailBatch>;
  /** Orders two event ids of this store like `Array.sort` comparators do. */
  compareIds(a: string, b: string): number;
  close(): Promise<void>;
}

export const DEFAULT_QUERY_LIMIT = 50;
export const MAX_QUERY_LIMIT = 1000;

/**
 * DocumentSearch: reading arbitrary documents (log lines, alerts) for the Elasticsearch
 * query trigger. `query` is the user's query DSL, ANDed with a range on `timestampField`.
 */
export interface DocumentSearchRequest {
  index: string;
  query: Record<string, unknown>;
  timestampField: string;
  /** Inclusive bounds, epoch ms. */
  from: number;
  to: number;
  size: number;
}

export interface DocumentSearch {
  /** Matching documents, oldest first (by `timestampField`), and how many match in all. */
  search(req: DocumentSearchRequest): Promise<{ total: number; hits: Array<{ id: string; index: string; source: unknown; time: number }> }>;
}
