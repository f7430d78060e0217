/** The protocol double's data model (test/doubles/elasticsearch.ts): documents, indices, templates, and the error it answers with. */

export type Doc = Record<string, unknown>;
export interface StoredDoc {
  id: string;
  source: Doc;
  visible: boolean;
  /** Held back by `holdVisibility`: refreshes skip it. */
  held: boolean;
  seq: number;
}
export interface Index {
  name: string;
  docs: Map<string, StoredDoc>;
  mappings: { properties?: Record<string, unknown>; dynamic?: unknown };
  settings: Record<string, unknown>;
  /** Field paths with a mapping (explicit, or added by dynamic mapping on write): what can be sorted on. */
  fields: Set<string>;
  /** The index's own `refresh_interval` (ms), or undefined to follow the double's default. */
  refreshMs?: number;
  timer?: NodeJS.Timeout;
}
export interface Template {
  index_patterns: string[];
  template?: { settings?: unknown; mappings?: unknown };
  priority?: number;
}

/** An Elasticsearch error answer: HTTP status, `error.type`, `error.reason` and an optional `caused_by`. */
export class EsError extends Error {
  status: number;
  type: string;
  causedBy?: { type: string; reason: string };
  constructor(status: number, type: string, reason: string, causedBy?: { type: string; reason: string }) {
    super(reason);
    this.status = status;
    this.type = type;
    this.causedBy = causedBy;
  }
}

/**
 * An error a shard meets while it runs the request (building the aggregators, collecting): every
 * shard that runs it fails, so the search answers "all shards failed" with it as the cause
 * (elasticsearch-search.ts); a search that reaches no shard meets none. Parse errors of the
 * request body are plain EsErrors, raised before any shard is picked.
 */
export class ShardLevelError extends EsError {}

/** What an aggregation needs besides its documents: the fields' mappings, and the search's running bucket count (`search.max_buckets`). */
export interface AggContext {
  /** The mapping of `field` in the first searched index that maps it (`type`, `format`), or undefined when unmapped. */
  mapping(field: string): { type?: string; format?: string } | undefined;
  buckets: { count: number };
}

/** An ES wildcard expression (`*` only) as a RegExp over whole names. */
export const wildcard = (pattern: string) =>
  new RegExp(
    '^' +
      pattern
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );
