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
 * aggregations avg/sum/min/max/value_count/percentiles/filter/terms), `_refresh`, and
 * refresh semantics: a write is searchable only after a refresh (`?refresh=true|wait_for`,
 * `_refresh`, or the periodic refresh every `refreshIntervalMs`; `-1` = only on demand),
 * so lagging documents can be exercised. Every response carries
 * `X-Elastic-Product: Elasticsearch`, which the client requires.
 * Percentiles are computed exactly with TDigest-like interpolation (real ES approximates).
 */
export interface ElasticsearchDouble {
  url: string;
  /** Makes pending writes searchable (all indices, or those matching `pattern`). */
  refresh(pattern?: string): void;
  /** Changes the periodic refresh; -1 stops it. */
  setRefreshInterval(ms: number): void;
  /** Requests received, e.g. to assert that a call was made. */
  requests: Array<{ method: string; path: string }>;
  /** Number of searchable documents across indices matching `pattern`. */
  count(pattern?: string): number;
  stop(): Promise<void>;
}

type Doc = Record<string, unknown>;
interface StoredDoc {
  id: string;
  source: Doc;
  visible: boolean;
  seq: number;
}
interface Index {
  name: string;
  docs: Map<string, StoredDoc>;
  mappings: unknown;
  settings: unknown;
}
interface Template {
  index_patterns: string[];
  template?: { settings?: unknown; mappings?: unknown };
  priority?: number;
}

class EsError extends Error {
  status: number;
  type: string;
  constructor(status: number, type: string, reason: string) {
    super(reason);
    this.status = status;
    this.type = type;
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

type SortSpec = Array<{ field: string; desc: boolean }>;
function parseSort(sort: unknown): SortSpec {
  const list = sort === undefined ? [] : Array.isArray(sort) ? sort : [sort];
  return list.map((s) => {
    if (typeof s === 'string') return { field: s, desc: false };
    const [field, spec] = Object.entries(s as Record<string, unknown>)[0];
    const order = typeof spec === 'string' ? spec : (spec as { order?: string }).order;
    return { field, desc: order === 'desc' };
  });
}
const sortValue = (d: Doc, field: string) => {
  const v = values(d, field)[0];
  return v === undefined ? null : comparable(v);
};

export async function startElasticsearchDouble(options: { refreshIntervalMs?: number } = {}): Promise<ElasticsearchDouble> {
  const indices = new Map<string, Index>();
  const templates = new Map<string, Template>();
  const requests: Array<{ method: string; path: string }> = [];
  let seq = 0;
  let interval = options.refreshIntervalMs ?? 1000;
  let timer: NodeJS.Timeout | undefined;

  const refresh = (pattern = '*') => {
    const re = wildcard(pattern);
    for (const idx of indices.values()) if (re.test(idx.name)) for (const d of idx.docs.values()) d.visible = true;
  };
  const schedule = () => {
    clearInterval(timer);
    timer = interval > 0 ? setInterval(() => refresh(), interval) : undefined;
    timer?.unref();
  };
  schedule();

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

  const createIndex = (name: string, body: { settings?: unknown; mappings?: unknown } = {}): Index => {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new EsError(400, 'invalid_index_name_exception', `Invalid index name [${name}], must be lowercase`);
    const tpl = [...templates.values()]
      .filter((t) => t.index_patterns.some((p) => wildcard(p).test(name)))
      .sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0))[0];
    const idx: Index = {
      name,
      docs: new Map(),
      mappings: body.mappings ?? tpl?.template?.mappings ?? {},
      settings: body.settings ?? tpl?.template?.settings ?? {},
    };
    indices.set(name, idx);
    return idx;
  };

  const write = (index: string, id: string | undefined, source: Doc, create: boolean) => {
    const idx = indices.get(index) ?? createIndex(index);
    const docId = id ?? `d${++seq}${Math.random().toString(36).slice(2, 8)}`;
    const existing = idx.docs.get(docId);
    if (existing && create) throw new EsError(409, 'version_conflict_engine_exception', `[${docId}]: version conflict, document already exists`);
    idx.docs.set(docId, { id: docId, source, visible: false, seq: ++seq });
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

  const search = (targets: Index[], body: Record<string, unknown>) => {
    let hits: Array<{ idx: Index; d: StoredDoc; doc: Doc }> = [];
    for (const idx of targets)
      for (const d of idx.docs.values()) {
        if (!d.visible) continue;
        const doc = { ...d.source, __id: d.id };
        if (matches(doc, body.query as Record<string, unknown>)) hits.push({ idx, d, doc });
      }
    const sort = parseSort(body.sort);
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
      timed_out: false,
      _shards: { total: targets.length, successful: targets.length, skipped: 0, failed: 0 },
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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    requests.push({ method, path: url.pathname });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const json = () => (text ? (JSON.parse(text) as Record<string, unknown>) : {});
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(method === 'HEAD' || body === undefined ? undefined : JSON.stringify(body));
    };
    const refreshParam = url.searchParams.get('refresh');
    const afterWrite = (pattern: string) => {
      if (refreshParam === 'true' || refreshParam === '' || refreshParam === 'wait_for') refresh(pattern);
    };
    try {
      if (parts.length === 0) {
        return send(200, {
          name: 'es-double',
          cluster_name: 'veer-test-double',
          cluster_uuid: 'double',
          version: {
            number: '9.0.0',
            build_flavor: 'default',
            lucene_version: '10.0.0',
            minimum_wire_compatibility_version: '8.18.0',
            minimum_index_compatibility_version: '8.0.0',
          },
          tagline: 'You Know, for Search (double)',
        });
      }
      const [first, second, third] = parts;
      if (first === '_index_template') {
        if (method === 'PUT' || method === 'POST') {
          templates.set(second, json() as unknown as Template);
          return send(200, { acknowledged: true });
        }
        const t = templates.get(second);
        if (!t)
          return send(
            404,
            method === 'HEAD'
              ? undefined
              : {
                  error: {
                    root_cause: [{ type: 'resource_not_found_exception', reason: `index template matching [${second}] not found` }],
                    type: 'resource_not_found_exception',
                    reason: `index template matching [${second}] not found`,
                  },
                  status: 404,
                },
          );
        return send(200, { index_templates: [{ name: second, index_template: t }] });
      }
      if (first === '_bulk') {
        const r = bulk(text, undefined);
        afterWrite('*');
        return send(200, r);
      }
      if (first === '_refresh') {
        refresh();
        return send(200, { _shards: { total: 1, successful: 1, failed: 0 } });
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
          for (const i of found) indices.delete(i.name);
          return send(200, { acknowledged: true });
        }
      }
      if (second === '_search') return send(200, search(resolve(first, url.searchParams), json()));
      if (second === '_refresh') {
        resolve(first, url.searchParams);
        refresh(first);
        return send(200, { _shards: { total: 1, successful: 1, failed: 0 } });
      }
      if (second === '_bulk') {
        const r = bulk(text, first);
        afterWrite(first);
        return send(200, r);
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
      return send(e.status, { error: { root_cause: [{ type: e.type, reason: e.message }], type: e.type, reason: e.message }, status: e.status });
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
    refresh,
    setRefreshInterval(ms) {
      interval = ms;
      schedule();
    },
    requests,
    count(pattern = '*') {
      const re = wildcard(pattern);
      let n = 0;
      for (const idx of indices.values()) if (re.test(idx.name)) for (const d of idx.docs.values()) if (d.visible) n++;
      return n;
    },
    async stop() {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
