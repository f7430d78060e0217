import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An Elasticsearch protocol DOUBLE (not Elasticsearch): an in-process HTTP server that
 * speaks the part of the REST API Veer's adapters use, so they are tested through the
 * real `@elastic/elasticsearch` client. No real server can run on these machines.
 *
 * Covered: `GET /` info, index templates, index create/exists/delete, `_doc`/`_create`,
 * `_bulk` (NDJSON, per-item results and errors), `_search` (bool filter/must/should/
 * must_not, range, term, terms, match, match_all, exists; sort, search_after, from/size;
 * aggregations avg/sum/min/max/value_count/percentiles/filter/terms), `_refresh`.
 * Every response carries `X-Elastic-Product: Elasticsearch`, which the client requires.
 * Percentiles are computed exactly with TDigest-like interpolation (real ES approximates).
 *
 * Behaviour that bit us on real clusters, reproduced on purpose:
 * - REST API compatibility (`major` 8 or 9): versioned media types are checked like
 *   RestCompatibleVersionHelper does (a server accepts `compatible-with` = its major or the
 *   one before), answering 400 `media_type_header_exception`; `GET /` reports that major.
 *   https://github.com/elastic/elasticsearch/blob/main/server/src/main/java/org/elasticsearch/rest/RestCompatibleVersionHelper.java
 *   https://www.elastic.co/docs/reference/elasticsearch/rest-apis/compatibility
 * - Refresh: a write is searchable only after a refresh of its index: periodic per the
 *   index's `refresh_interval` setting (from the request or the matching template; else
 *   the double's default, ES's being 1s; `-1` = only on demand), `_refresh`, or
 *   `?refresh=true|wait_for`.
 *   https://www.elastic.co/docs/reference/elasticsearch/index-settings/index-modules#index-refresh-interval-setting
 * - Partial results: a search answers 200 with `_shards.failed > 0` (and `failures`) when
 *   some shards fail, or `timed_out: true` with what the shards had; only when every shard
 *   fails is it an error (`search_phase_execution_exception`, "all shards failed").
 *   Sorting on a field an index has no mapping for fails that index's shard unless the
 *   sort gives `unmapped_type`.
 *   https://www.elastic.co/docs/reference/elasticsearch/rest-apis/search-shard-routing
 *   https://www.elastic.co/docs/reference/elasticsearch/rest-apis/sort-search-results#_ignoring_unmapped_fields
 * - Composable templates: a PUT whose patterns overlap an existing template of the same
 *   priority is a 400 `illegal_argument_exception` (MetadataIndexTemplateService);
 *   index creation applies only the highest-priority match.
 *   https://www.elastic.co/docs/manage-data/data-store/templates
 * - `_bulk` items fail on their own (`errors: true`, per-item `status`, e.g. 429
 *   `es_rejected_execution_exception` when the write queue is full); items without `_id`
 *   get a generated id, so a resent bulk indexes them twice.
 *   https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk
 */
export interface ElasticsearchDouble {
  url: string;
  /** The major version it behaves as (8 or 9). */
  major: 8 | 9;
  /** Makes pending writes searchable (all indices, or those matching `pattern`). */
  refresh(pattern?: string): void;
  /** Changes the periodic refresh of indices without their own `refresh_interval`; -1 stops it. */
  setRefreshInterval(ms: number): void;
  /** Requests received, e.g. to assert that a call was made. */
  requests: Array<{ method: string; path: string; accept?: string; contentType?: string }>;
  /** Number of searchable documents across indices matching `pattern`. */
  count(pattern?: string): number;
  /** Test hook: the next `times` searches (default 1) fail the shards of indices matching `index` (partial results), or time out on them; the returned function ends it early. */
  failShards(o: { index: string; times?: number; timedOut?: boolean }): () => void;
  /** Test hook: writes to indices matching `pattern` stay unsearchable (through refreshes) until the returned release is called. */
  holdVisibility(pattern: string): () => void;
  /** Test hook: the next `n` bulk index/create items answer 429 `es_rejected_execution_exception` and are not written; the returned function ends it early. */
  rejectBulkItems(n: number): () => void;
  /** Test hook: the next `_bulk` is applied, then answered `status` (a proxy's 502 after the cluster did the work), so the client resends it. */
  applyNextBulkThenFail(status?: number): void;
  stop(): Promise<void>;
}

type Doc = Record<string, unknown>;
interface StoredDoc {
  id: string;
  source: Doc;
  visible: boolean;
  /** Held back by `holdVisibility`: refreshes skip it. */
  held: boolean;
  seq: number;
}
interface Index {
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
interface Template {
  index_patterns: string[];
  template?: { settings?: unknown; mappings?: unknown };
  priority?: number;
}

class EsError extends Error {
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

const wildcard = (pattern: string) =>
  new RegExp(
    '^' +
      pattern
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );

function getPath(doc: Doc, path: string): unknown {
  if (path in doc) return doc[path];
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function values(doc: Doc, field: string): unknown[] {
  const v = field === '_id' ? (doc as { __id?: string }).__id : getPath(doc, field);
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function dateMath(v: string, now: number): number | undefined {
  const m = /^now(?:([+-])(\d+)(ms|s|m|h|d))?(?:\/\w)?$/.exec(v);
  if (!m) return undefined;
  if (!m[1]) return now;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[m[3] as 'ms'] ?? 1;
  return now + (m[1] === '-' ? -1 : 1) * Number(m[2]) * unit;
}

/** Dates (ISO strings, `now-…`) and numbers compare as numbers; everything else as strings. */
function comparable(v: unknown, now = Date.now()): number | string {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  const s = String(v);
  const dm = dateMath(s, now);
  if (dm !== undefined) return dm;
  if (/^\d{4}-\d{2}-\d{2}T/.test(s)) {
    const ms = Date.parse(s);
    if (!Number.isNaN(ms)) return ms;
  }
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  return s;
}

function cmp(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function matches(doc: Doc, query: Record<string, unknown> | undefined): boolean {
  if (!query || Object.keys(query).length === 0) return true;
  const [kind, body] = Object.entries(query)[0] as [string, Record<string, unknown>];
  const list = (x: unknown) => (x === undefined ? [] : Array.isArray(x) ? x : [x]) as Array<Record<string, unknown>>;
  switch (kind) {
    case 'match_all':
      return true;
    case 'match_none':
      return false;
    case 'bool': {
      const must = [...list(body.must), ...list(body.filter)];
      const should = list(body.should);
      if (!must.every((q) => matches(doc, q))) return false;
      if (list(body.must_not).some((q) => matches(doc, q))) return false;
      const min = body.minimum_should_match !== undefined ? Number(body.minimum_should_match) : must.length ? 0 : 1;
      return should.length === 0 || should.filter((q) => matches(doc, q)).length >= min;
    }
    case 'term':
    case 'match': {
      const [field, spec] = Object.entries(body)[0];
      const want =
        spec !== null && typeof spec === 'object' ? ((spec as { value?: unknown; query?: unknown }).value ?? (spec as { query?: unknown }).query) : spec;
      return values(doc, field).some((v) => cmp(comparable(v), comparable(want)) === 0);
    }
    case 'terms': {
      const [field, want] = Object.entries(body)[0] as [string, unknown[]];
      return values(doc, field).some((v) => want.some((w) => cmp(comparable(v), comparable(w)) === 0));
    }
    case 'exists':
      return values(doc, String(body.field)).length > 0;
    case 'range': {
      const [field, spec] = Object.entries(body)[0] as [string, Record<string, unknown>];
      return values(doc, field).some((raw) => {
        const v = comparable(raw);
        if (spec.gt !== undefined && !(cmp(v, comparable(spec.gt)) > 0)) return false;
        if (spec.gte !== undefined && !(cmp(v, comparable(spec.gte)) >= 0)) return false;
        if (spec.lt !== undefined && !(cmp(v, comparable(spec.lt)) < 0)) return false;
        if (spec.lte !== undefined && !(cmp(v, comparable(spec.lte)) <= 0)) return false;
        return true;
      });
    }
    case 'ids':
      return ((body.values as string[]) ?? []).includes((doc as { __id?: string }).__id ?? '');
    default:
      throw new EsError(400, 'parsing_exception', `unknown query [${kind}] (not implemented by the double)`);
  }
}

/** TDigest with one centroid per value: centroid i sits at rank i + 0.5. */
function percentileOf(sorted: number[], p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  if (n === 1) return sorted[0];
  const rank = (p / 100) * n;
  if (rank <= 0.5) return sorted[0];
  if (rank >= n - 0.5) return sorted[n - 1];
  const i = Math.floor(rank - 0.5);
  const f = rank - 0.5 - i;
  return sorted[i] + f * (sorted[i + 1] - sorted[i]);
}

function numbers(docs: Doc[], field: string): number[] {
  return docs
    .flatMap((d) => values(d, field))
    .map((v) => comparable(v))
    .filter((v): v is number => typeof v === 'number');
}

function aggregate(docs: Doc[], aggs: Record<string, Record<string, unknown>> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(aggs ?? {})) {
    const sub = (def.aggs ?? def.aggregations) as Record<string, Record<string, unknown>> | undefined;
    const [kind, body] = Object.entries(def).find(([k]) => k !== 'aggs' && k !== 'aggregations') as [string, Record<string, unknown>];
    const nums = () => numbers(docs, String(body.field));
    switch (kind) {
      case 'avg': {
        const n = nums();
        out[name] = { value: n.length ? n.reduce((a, b) => a + b, 0) / n.length : null };
        break;
      }
      case 'sum':
        out[name] = { value: nums().reduce((a, b) => a + b, 0) };
        break;
      case 'min': {
        const n = nums();
        out[name] = { value: n.length ? Math.min(...n) : null };
        break;
      }
      case 'max': {
        const n = nums();
        out[name] = { value: n.length ? Math.max(...n) : null };
        break;
      }
      case 'value_count':
        out[name] = { value: docs.flatMap((d) => values(d, String(body.field))).length };
        break;
      case 'percentiles': {
        const sorted = nums().sort((a, b) => a - b);
        const percents = (body.percents as number[] | undefined) ?? [1, 5, 25, 50, 75, 95, 99];
        out[name] = { values: Object.fromEntries(percents.map((p) => [Number(p).toFixed(1), percentileOf(sorted, p)])) };
        break;
      }
      case 'filter': {
        const hit = docs.filter((d) => matches(d, body));
        out[name] = { doc_count: hit.length, ...aggregate(hit, sub) };
        break;
      }
      case 'terms': {
        const groups = new Map<string, Doc[]>();
        for (const d of docs) for (const v of values(d, String(body.field))) groups.set(String(v), [...(groups.get(String(v)) ?? []), d]);
        const buckets = [...groups].sort((a, b) => b[1].length - a[1].length).slice(0, Number(body.size ?? 10));
        out[name] = { buckets: buckets.map(([key, ds]) => ({ key, doc_count: ds.length, ...aggregate(ds, sub) })) };
        break;
      }
      default:
        throw new EsError(400, 'parsing_exception', `unknown aggregation type [${kind}] (not implemented by the double)`);
    }
  }
  return out;
}

type SortSpec = Array<{ field: string; desc: boolean; unmappedType?: string }>;
function parseSort(sort: unknown): SortSpec {
  const list = sort === undefined ? [] : Array.isArray(sort) ? sort : [sort];
  return list.map((s) => {
    if (typeof s === 'string') return { field: s, desc: false };
    const [field, spec] = Object.entries(s as Record<string, unknown>)[0];
    const order = typeof spec === 'string' ? spec : (spec as { order?: string }).order;
    const unmappedType = typeof spec === 'object' && spec !== null ? (spec as { unmapped_type?: string }).unmapped_type : undefined;
    return { field, desc: order === 'desc', ...(unmappedType ? { unmappedType } : {}) };
  });
}
const sortValue = (d: Doc, field: string) => {
  const v = values(d, field)[0];
  return v === undefined ? null : comparable(v);
};

/**
 * RestCompatibleVersionHelper.getCompatibleVersion of a server of `major`: a versioned
 * Accept (and, with a body, Content-Type) must name `major` or `major - 1`, both headers
 * must agree, and be versioned both or neither. Unversioned `application/json` means
 * "the server's own major". The answer is RestRequest's MediaTypeHeaderException.
 */
export function compatibilityError(major: number, accept: string | undefined, contentType: string | undefined, hasContent: boolean): EsError | undefined {
  const version = (h: string | undefined) => {
    const m = /compatible-with=(\d+)/.exec(h ?? '');
    return m ? Number(m[1]) : undefined;
  };
  const a = version(accept);
  const c = version(contentType);
  const av = a ?? major;
  const cv = c ?? major;
  const min = major - 1;
  let reason: string | undefined;
  if (av > major || av < min) reason = `Accept version must be either version ${major} or ${min}, but found ${av}. Accept=${accept}`;
  else if (hasContent && (cv > major || cv < min))
    reason = `Content-Type version must be either version ${major} or ${min}, but found ${cv}. Content-Type=${contentType}`;
  else if (hasContent && cv !== av)
    reason = `A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version and the compatible versions must match. Accept=${accept}, Content-Type=${contentType}`;
  else if (hasContent && (a === undefined) !== (c === undefined))
    reason = `A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version. Accept=${accept}, Content-Type=${contentType}`;
  if (!reason) return undefined;
  return new EsError(400, 'media_type_header_exception', 'Invalid media-type value on headers [Accept, Content-Type]', { type: 'status_exception', reason });
}

/** ES time values (`5s`, `500ms`, `1m`, `-1`) in ms; undefined when absent. */
function timeValueMs(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const m = /^(-?\d+)(ms|s|m|h)?$/.exec(String(v).trim());
  if (!m) throw new EsError(400, 'illegal_argument_exception', `failed to parse setting [index.refresh_interval] with value [${String(v)}] as a time value`);
  const n = Number(m[1]);
  return n < 0 ? -1 : n * { ms: 1, s: 1000, m: 60_000, h: 3600_000 }[(m[2] ?? 'ms') as 'ms'];
}

/** Whether two wildcard patterns can match a common name (ES intersects their automatons). */
function patternsOverlap(a: string, b: string): boolean {
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === a.length && j === b.length) r = true;
    else if (a[i] === '*') r = go(i + 1, j) || (j < b.length && (b[j] === '*' ? go(i, j + 1) || go(i + 1, j) : go(i, j + 1)));
    else if (b[j] === '*') r = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else r = i < a.length && j < b.length && a[i] === b[j] && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

/** Leaf paths of a mapping's `properties`. */
function mappedPaths(properties: Record<string, unknown> | undefined, prefix = ''): string[] {
  return Object.entries(properties ?? {}).flatMap(([k, v]) => {
    const sub = (v as { properties?: Record<string, unknown> }).properties;
    return sub ? mappedPaths(sub, `${prefix}${k}.`) : [`${prefix}${k}`];
  });
}

/** Leaf paths of a document, as dynamic mapping would add them. */
function docPaths(doc: unknown, prefix = ''): string[] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return prefix ? [prefix.slice(0, -1)] : [];
  return Object.entries(doc as Doc).flatMap(([k, v]) => docPaths(v, `${prefix}${k}.`));
}

const SORT_META_FIELDS = new Set(['_doc', '_id', '_score', '_shard_doc', '_seq_no', '_index']);

export interface ElasticsearchDoubleOptions {
  /** Default periodic refresh (ms) of indices without their own `refresh_interval`; -1 = only on demand. Default 1000 (ES's 1s). */
  refreshIntervalMs?: number;
  /** The major version to behave as. Default 9. */
  major?: 8 | 9;
}

const VERSIONS = {
  8: { number: '8.18.0', lucene_version: '9.12.0', minimum_wire_compatibility_version: '7.17.0', minimum_index_compatibility_version: '7.0.0' },
  9: { number: '9.0.0', lucene_version: '10.1.0', minimum_wire_compatibility_version: '8.18.0', minimum_index_compatibility_version: '8.0.0' },
} as const;

export async function startElasticsearchDouble(options: ElasticsearchDoubleOptions = {}): Promise<ElasticsearchDouble> {
  const major = options.major ?? 9;
  const indices = new Map<string, Index>();
  const templates = new Map<string, Template>();
  const requests: ElasticsearchDouble['requests'] = [];
  let seq = 0;
  let defaultInterval = options.refreshIntervalMs ?? 1000;
  const shardFaults: Array<{ re: RegExp; times: number; timedOut: boolean }> = [];
  const holds = new Set<RegExp>();
  let rejectItems = 0;
  let failBulkAfterApply: number | undefined;

  const refreshIndex = (idx: Index) => {
    for (const d of idx.docs.values()) if (!d.held) d.visible = true;
  };
  const refresh = (pattern = '*') => {
    const re = wildcard(pattern);
    for (const idx of indices.values()) if (re.test(idx.name)) refreshIndex(idx);
  };
  /** Each index refreshes on its own schedule, like each shard does on a real node. */
  const schedule = (idx: Index) => {
    clearInterval(idx.timer);
    const ms = idx.refreshMs ?? defaultInterval;
    idx.timer = ms > 0 ? setInterval(() => refreshIndex(idx), ms) : undefined;
    idx.timer?.unref();
  };
  const dropIndex = (idx: Index) => {
    clearInterval(idx.timer);
    indices.delete(idx.name);
  };

  const resolve = (expr: string, params: URLSearchParams): Index[] => {
    const out: Index[] = [];
    for (const part of expr.split(',')) {
      if (part.includes('*') || part === '_all') {
        const re = wildcard(part === '_all' ? '*' : part);
        out.push(...[...indices.values()].filter((i) => re.test(i.name)));
      } else if (indices.has(part)) out.push(indices.get(part)!);
      else if (params.get('ignore_unavailable') !== 'true') throw new EsError(404, 'index_not_found_exception', `no such index [${part}]`);
    }
    return out;
  };

  const putTemplate = (name: string, t: Template) => {
    const priority = t.priority ?? 0;
    // MetadataIndexTemplateService: overlapping patterns at the same priority are refused, since index creation could not pick one.
    const clashes = [...templates].filter(
      ([other, o]) => other !== name && (o.priority ?? 0) === priority && o.index_patterns.some((op) => t.index_patterns.some((p) => patternsOverlap(p, op))),
    );
    if (clashes.length) {
      throw new EsError(
        400,
        'illegal_argument_exception',
        `index template [${name}] has index patterns [${t.index_patterns.join(', ')}] matching patterns from existing templates [${clashes.map(([n]) => n).join(',')}] with patterns (${clashes.map(([n, o]) => `${n} => [${o.index_patterns.join(', ')}]`).join(',')}) that have the same priority [${priority}], multiple index templates may not match during index creation, please use a different priority`,
      );
    }
    templates.set(name, t);
  };

  const createIndex = (name: string, body: { settings?: Record<string, unknown>; mappings?: Index['mappings'] } = {}): Index => {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new EsError(400, 'invalid_index_name_exception', `Invalid index name [${name}], must be lowercase`);
    const tpl = [...templates.values()]
      .filter((t) => t.index_patterns.some((p) => wildcard(p).test(name)))
      .sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0))[0];
    const settings = (body.settings ?? tpl?.template?.settings ?? {}) as Record<string, unknown>;
    const mappings = (body.mappings ?? tpl?.template?.mappings ?? {}) as Index['mappings'];
    const own = settings.refresh_interval ?? (settings.index as { refresh_interval?: unknown } | undefined)?.refresh_interval;
    const idx: Index = { name, docs: new Map(), mappings, settings, fields: new Set(mappedPaths(mappings.properties)), refreshMs: timeValueMs(own) };
    indices.set(name, idx);
    schedule(idx);
    return idx;
  };

  const write = (index: string, id: string | undefined, source: Doc, create: boolean) => {
    const idx = indices.get(index) ?? createIndex(index);
    const docId = id ?? `d${++seq}${Math.random().toString(36).slice(2, 8)}`;
    const existing = idx.docs.get(docId);
    if (existing && create) throw new EsError(409, 'version_conflict_engine_exception', `[${docId}]: version conflict, document already exists`);
    const dynamic = String(idx.mappings.dynamic ?? 'true');
    if (dynamic === 'true' || dynamic === 'runtime') for (const f of docPaths(source)) idx.fields.add(f);
    const held = [...holds].some((re) => re.test(index));
    idx.docs.set(docId, { id: docId, source, visible: false, held, seq: ++seq });
    return {
      _index: index,
      _id: docId,
      _version: 1,
      result: existing ? 'updated' : 'created',
      _shards: { total: 1, successful: 1, failed: 0 },
      _seq_no: seq,
      _primary_term: 1,
    };
  };

  /** Why this index's (single) shard fails this search, if it does. */
  const shardFailure = (idx: Index, sort: SortSpec, injected: Array<{ re: RegExp }>) => {
    if (injected.some((f) => f.re.test(idx.name)))
      return { type: 'es_rejected_execution_exception', reason: `rejected execution of search on [${idx.name}][0] (double: injected)`, status: 429 };
    const unmapped = sort.find((s) => !SORT_META_FIELDS.has(s.field) && !s.unmappedType && !idx.fields.has(s.field));
    if (unmapped) return { type: 'query_shard_exception', reason: `No mapping found for [${unmapped.field}] in order to sort on`, status: 400 };
    return undefined;
  };

  const search = (targets: Index[], body: Record<string, unknown>) => {
    const sort = parseSort(body.sort);
    // Injected faults count once per search that touches a matching index.
    const active = shardFaults.filter((f) => f.times > 0 && targets.some((t) => f.re.test(t.name)));
    for (const f of active) f.times--;
    const failures: Array<{ shard: number; index: string; node: string; reason: { type: string; reason: string }; status: number }> = [];
    const timedOutOn = active.filter((f) => f.timedOut);
    const answering = targets.filter((idx) => {
      const why = shardFailure(
        idx,
        sort,
        active.filter((f) => !f.timedOut),
      );
      if (why) failures.push({ shard: 0, index: idx.name, node: 'double', reason: { type: why.type, reason: why.reason }, status: why.status });
      return !why;
    });
    if (targets.length > 0 && answering.length === 0) {
      const status = Math.max(...failures.map((f) => f.status));
      throw Object.assign(new EsError(status, 'search_phase_execution_exception', 'all shards failed'), { failures });
    }
    let hits: Array<{ idx: Index; d: StoredDoc; doc: Doc }> = [];
    for (const idx of answering) {
      // A shard that timed out returns what it had collected: here, nothing.
      if (timedOutOn.some((f) => f.re.test(idx.name))) continue;
      for (const d of idx.docs.values()) {
        if (!d.visible) continue;
        const doc = { ...d.source, __id: d.id };
        if (matches(doc, body.query as Record<string, unknown>)) hits.push({ idx, d, doc });
      }
    }
    const total = hits.length;
    if (sort.length) {
      hits.sort((a, b) => {
        for (const s of sort) {
          const av = s.field === '_doc' ? a.d.seq : sortValue(a.doc, s.field);
          const bv = s.field === '_doc' ? b.d.seq : sortValue(b.doc, s.field);
          if (av === bv) continue;
          if (av === null) return 1;
          if (bv === null) return -1;
          const c = cmp(av, bv);
          if (c !== 0) return s.desc ? -c : c;
        }
        return 0;
      });
    } else hits.sort((a, b) => a.d.seq - b.d.seq);
    const sortValues = (h: (typeof hits)[number]) => sort.map((s) => (s.field === '_doc' ? h.d.seq : sortValue(h.doc, s.field)));
    if (Array.isArray(body.search_after)) {
      const after = body.search_after as Array<number | string>;
      hits = hits.filter((h) => {
        const sv = sortValues(h);
        for (let i = 0; i < sort.length; i++) {
          const c = cmp(sv[i] ?? '', comparable(after[i]));
          if (c !== 0) return sort[i].desc ? c < 0 : c > 0;
        }
        return false;
      });
    }
    const from = Number(body.from ?? 0);
    const size = Number(body.size ?? 10);
    const page = hits.slice(from, from + size);
    const aggs = body.aggs ?? body.aggregations;
    return {
      took: 1,
      timed_out: timedOutOn.length > 0,
      _shards: {
        total: targets.length,
        successful: answering.length,
        skipped: 0,
        failed: failures.length,
        ...(failures.length ? { failures: failures.map(({ status: _s, ...f }) => f) } : {}),
      },
      hits: {
        total: { value: total, relation: 'eq' },
        max_score: null,
        hits: page.map((h) => ({ _index: h.idx.name, _id: h.d.id, _score: null, _source: h.d.source, ...(sort.length ? { sort: sortValues(h) } : {}) })),
      },
      ...(aggs
        ? {
            aggregations: aggregate(
              hits.map((h) => h.doc),
              aggs as Record<string, Record<string, unknown>>,
            ),
          }
        : {}),
    };
  };

  const bulk = (text: string, defaultIndex: string | undefined) => {
    const lines = text.split('\n').filter((l) => l.trim());
    const items: unknown[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i++) {
      const action = JSON.parse(lines[i]) as Record<string, { _index?: string; _id?: string }>;
      const [op, meta] = Object.entries(action)[0];
      const index = meta._index ?? defaultIndex;
      let result: Record<string, unknown>;
      try {
        if (!index) throw new EsError(400, 'action_request_validation_exception', 'Validation Failed: 1: index is missing;');
        if (op === 'index' || op === 'create') {
          const source = JSON.parse(lines[++i]) as Doc;
          if (source === null || typeof source !== 'object' || Array.isArray(source))
            throw new EsError(400, 'mapper_parsing_exception', 'failed to parse: document must be an object');
          if (rejectItems > 0) {
            rejectItems--;
            throw new EsError(429, 'es_rejected_execution_exception', `rejected execution of primary operation on [${index}][0] (double: write queue full)`);
          }
          result = { ...write(index, meta._id, source, op === 'create'), status: 201 };
        } else if (op === 'delete') {
          const existed = indices.get(index)?.docs.delete(meta._id ?? '') ?? false;
          result = { _index: index, _id: meta._id, result: existed ? 'deleted' : 'not_found', status: existed ? 200 : 404 };
        } else throw new EsError(400, 'illegal_argument_exception', `bulk action [${op}] is not implemented by the double`);
      } catch (err) {
        if (!(err instanceof EsError)) throw err;
        errors = true;
        result = { _index: index, _id: meta._id, status: err.status, error: { type: err.type, reason: err.message } };
      }
      items.push({ [op]: result });
    }
    return { took: 1, errors, items };
  };

  const errorBody = (e: EsError) => ({
    error: {
      root_cause: [{ type: e.type, reason: e.message }],
      type: e.type,
      reason: e.message,
      ...(e.causedBy ? { caused_by: e.causedBy } : {}),
      ...((e as { failures?: unknown }).failures ? { phase: 'query', grouped: true, failed_shards: (e as { failures?: unknown }).failures } : {}),
    },
    status: e.status,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const accept = req.headers.accept;
    const contentType = req.headers['content-type'];
    requests.push({ method, path: url.pathname, accept, contentType });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const json = () => (text ? (JSON.parse(text) as Record<string, unknown>) : {});
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(method === 'HEAD' || body === undefined ? undefined : JSON.stringify(body));
    };
    const refreshParam = url.searchParams.get('refresh');
    // `wait_for` answers once a refresh has made the write visible; the double refreshes at once, which differs only in timing.
    const afterWrite = (pattern: string) => {
      if (refreshParam === 'true' || refreshParam === '' || refreshParam === 'wait_for') refresh(pattern);
    };
    try {
      // Checked before routing, like RestRequest does while parsing the headers: every endpoint answers the same 400.
      const incompatible = compatibilityError(major, accept, contentType, text.length > 0);
      if (incompatible) throw incompatible;
      if (parts.length === 0) {
        return send(200, {
          name: 'es-double',
          cluster_name: 'veer-test-double',
          cluster_uuid: 'double',
          version: { ...VERSIONS[major], build_flavor: 'default' },
          tagline: 'You Know, for Search (double)',
        });
      }
      const [first, second, third] = parts;
      if (first === '_index_template') {
        if (method === 'PUT' || method === 'POST') {
          putTemplate(second, json() as unknown as Template);
          return send(200, { acknowledged: true });
        }
        if (method === 'DELETE') {
          if (!templates.delete(second)) throw new EsError(404, 'resource_not_found_exception', `index_template [${second}] missing`);
          return send(200, { acknowledged: true });
        }
        const t = templates.get(second);
        if (!t)
          return send(
            404,
            method === 'HEAD' ? undefined : errorBody(new EsError(404, 'resource_not_found_exception', `index template matching [${second}] not found`)),
          );
        return send(200, { index_templates: [{ name: second, index_template: t }] });
      }
      if (first === '_bulk' || second === '_bulk') {
        const r = bulk(text, first === '_bulk' ? undefined : first);
        afterWrite(first === '_bulk' ? '*' : first);
        if (failBulkAfterApply !== undefined) {
          const status = failBulkAfterApply;
          failBulkAfterApply = undefined;
          return send(status, { error: { type: 'bad_gateway', reason: 'upstream answered after the proxy gave up (double)' }, status });
        }
        return send(200, r);
      }
      if (first === '_refresh') {
        refresh();
        return send(200, { _shards: { total: indices.size, successful: indices.size, failed: 0 } });
      }
      if (first === '_search') return send(200, search([...indices.values()], json()));
      // /<index>[/...]
      if (second === undefined) {
        if (method === 'PUT') {
          if (indices.has(first)) throw new EsError(400, 'resource_already_exists_exception', `index [${first}/double] already exists`);
          createIndex(first, json());
          return send(200, { acknowledged: true, shards_acknowledged: true, index: first });
        }
        if (method === 'HEAD' || method === 'GET') {
          const found = resolve(first, new URLSearchParams({ ignore_unavailable: 'true' }));
          if (!found.length) throw new EsError(404, 'index_not_found_exception', `no such index [${first}]`);
          return send(200, Object.fromEntries(found.map((i) => [i.name, { mappings: i.mappings, settings: i.settings }])));
        }
        if (method === 'DELETE') {
          const found = resolve(first, url.searchParams);
          for (const i of found) dropIndex(i);
          return send(200, { acknowledged: true });
        }
      }
      if (second === '_search') return send(200, search(resolve(first, url.searchParams), json()));
      if (second === '_refresh') {
        const found = resolve(first, url.searchParams);
        for (const i of found) refreshIndex(i);
        return send(200, { _shards: { total: found.length, successful: found.length, failed: 0 } });
      }
      if (second === '_mapping' && (method === 'PUT' || method === 'POST')) {
        const body = json() as { properties?: Record<string, unknown> };
        for (const i of resolve(first, url.searchParams)) {
          i.mappings = { ...i.mappings, properties: { ...i.mappings.properties, ...body.properties } };
          for (const f of mappedPaths(body.properties)) i.fields.add(f);
        }
        return send(200, { acknowledged: true });
      }
      if ((second === '_doc' || second === '_create') && (method === 'PUT' || method === 'POST')) {
        const r = write(first, third, json(), second === '_create' || url.searchParams.get('op_type') === 'create');
        afterWrite(first);
        return send(201, r);
      }
      if (second === '_doc' && method === 'GET') {
        const d = indices.get(first)?.docs.get(third ?? '');
        if (!d) return send(404, { _index: first, _id: third, found: false });
        return send(200, { _index: first, _id: d.id, found: true, _source: d.source });
      }
      throw new EsError(400, 'illegal_argument_exception', `${method} ${url.pathname} is not implemented by the double`);
    } catch (err) {
      const e = err instanceof EsError ? err : new EsError(400, 'parse_exception', (err as Error).message);
      return send(e.status, errorBody(e));
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.writeHead(500, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(JSON.stringify({ error: { type: 'exception', reason: String(err) }, status: 500 }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    major,
    refresh,
    setRefreshInterval(ms) {
      defaultInterval = ms;
      for (const idx of indices.values()) if (idx.refreshMs === undefined) schedule(idx);
    },
    requests,
    count(pattern = '*') {
      const re = wildcard(pattern);
      let n = 0;
      for (const idx of indices.values()) if (re.test(idx.name)) for (const d of idx.docs.values()) if (d.visible) n++;
      return n;
    },
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
    async stop() {
      for (const idx of indices.values()) clearInterval(idx.timer);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
