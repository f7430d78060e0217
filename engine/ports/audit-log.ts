/**
 * The append-only audit stream: who changed what, when, and how it ended. Written for every
 * mutating API call (actor = token name, or `anonymous` without tokens) and for every
 * infrastructure effect of a script (actor = `workflow/<name>/<runId>`). There is no update
 * or delete: the store only trims the oldest entries past its bound.
 */
export interface AuditEntryInput {
  /** A token name, `anonymous`, or `workflow/<name>/<runId>`. */
  actor: string;
  /** `PUT /api/v1/gateways/shop/weights`, or the capability method: `ctx.gateways.setWeights`. */
  action: string;
  /** `<kind>/<name>` (`gateways/shop`, `workflows/canary`, `runs/<id>`), or the API path when it names none. */
  resource: string;
  /** `ok`; `refused` (401/403, a PermissionError); `failed` (anything else that did not succeed). */
  outcome: 'ok' | 'refused' | 'failed';
  /** The HTTP status answered, for API calls. */
  status?: number;
  /** The error code, when it did not succeed. */
  code?: string;
  /** The state before and after, where known (weights, instances, version…). */
  before?: unknown;
  after?: unknown;
  /** The API request id (also in the service log). */
  requestId?: string;
}

export interface AuditEntry extends AuditEntryInput {
  /** Position in the stream; ordered by time. */
  id: string;
  /** ISO-8601, the store's clock. */
  time: string;
}

export interface AuditQuery {
  /** Exact actor, or a prefix ending at a `/` (`workflow/canary` matches its runs). */
  actor?: string;
  /** Exact resource, or a prefix ending at a `/` (`gateways` matches every gateway). */
  resource?: string;
  /** Epoch ms: only entries at or after it. */
  since?: number;
  /** Continue from a previous answer's `next` (older entries). */
  cursor?: string;
  limit: number;
}

export interface AuditPage {
  /** Newest first. */
  entries: AuditEntry[];
  /** Pass as `cursor` for older entries; absent when there are none. */
  next?: string;
}

export interface AuditLog {
  /** Appends one entry; REDIS.UNAVAILABLE when the store is down (callers decide whether that blocks). */
  append(entry: AuditEntryInput): Promise<AuditEntry>;
  /**
   * Newest first, filtered. Scans a bounded number of entries per call, so a page may hold
   * fewer than `limit` entries and still have a `next`. VALIDATION for a bad cursor.
   */
  query(query: AuditQuery): Promise<AuditPage>;
}
