import { dateHistogram, MAX_BUCKETS, tooManyBuckets, type Aggs } from './elasticsearch-date-histogram.ts';
import { EsError, ShardLevelError, type AggContext, type Doc, type Index, type StoredDoc } from './elasticsearch-model.ts';
import { cmp, comparable, matches, values } from './elasticsearch-query.ts';

/*
 * `_search` in the protocol double (test/doubles/elasticsearch.ts): hits, sort and
 * search_after, from/size, aggregations, and shard failures.
 *
 * Partial results: a search answers 200 with `_shards.failed > 0` (and `failures`) when
 * some shards fail, or `timed_out: true` with what the shards had; only when every shard
 * fails is it an error (`search_phase_execution_exception`, "all shards failed").
 * Sorting on a field an index has no mapping for fails that index's shard unless the
 * sort gives `unmapped_type`.
 * https://www.elastic.co/docs/reference/elasticsearch/rest-apis/search-shard-routing
 * https://www.elastic.co/docs/reference/elasticsearch/rest-apis/sort-search-results#_ignoring_unmapped_fields
 *
 * A search that reaches no shard (no index matched, with ignore_unavailable / allow_no_indices)
 * answers without `aggregations`, even when some were asked for (ES 8 and 9: an empty response
 * is sent before any shard runs; https://github.com/elastic/elasticsearch/issues/129762).
 * Errors a shard meets running the aggregations (ShardLevelError) fail every shard that runs them.
 */

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

function aggregate(docs: Doc[], aggs: Aggs | undefined, ctx: AggContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(aggs ?? {})) {
    const sub = (def.aggs ?? def.aggregations) as Aggs | undefined;
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
        out[name] = { doc_count: hit.length, ...aggregate(hit, sub, ctx) };
        break;
      }
      case 'terms': {
        const groups = new Map<string, Doc[]>();
        for (const d of docs) for (const v of values(d, String(body.field))) groups.set(String(v), [...(groups.get(String(v)) ?? []), d]);
        const buckets = [...groups].sort((a, b) => b[1].length - a[1].length).slice(0, Number(body.size ?? 10));
        ctx.buckets.count += buckets.length;
        if (ctx.buckets.count > MAX_BUCKETS) throw tooManyBuckets();
        out[name] = { buckets: buckets.map(([key, ds]) => ({ key, doc_count: ds.length, ...aggregate(ds, sub, ctx) })) };
        break;
      }
      case 'date_histogram':
        out[name] = dateHistogram(name, docs, body, sub, ctx, aggregate);
        break;
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

const SORT_META_FIELDS = new Set(['_doc', '_id', '_score', '_shard_doc', '_seq_no', '_index']);

/** The injected shard faults one search meets (elasticsearch-faults.ts): the indices whose shard fails, and those whose shard times out. */
export interface ShardFaults {
  failing: RegExp[];
  timedOut: RegExp[];
}

/** Why this index's (single) shard fails this search, if it does. */
const shardFailure = (idx: Index, sort: SortSpec, failing: RegExp[]) => {
  if (failing.some((re) => re.test(idx.name)))
    return { type: 'es_rejected_execution_exception', reason: `rejected execution of search on [${idx.name}][0] (double: injected)`, status: 429 };
  const unmapped = sort.find((s) => !SORT_META_FIELDS.has(s.field) && !s.unmappedType && !idx.fields.has(s.field));
  if (unmapped) return { type: 'query_shard_exception', reason: `No mapping found for [${unmapped.field}] in order to sort on`, status: 400 };
  return undefined;
};

/** A search over `targets` (one shard each), meeting the injected faults `takeFaults` hands out: what `_search` answers, or an EsError when every shard fails. */
export function search(targets: Index[], body: Record<string, unknown>, takeFaults: (targets: Index[]) => ShardFaults) {
  const sort = parseSort(body.sort);
  const faults = takeFaults(targets);
  const failures: ShardFailure[] = [];
  const answering = targets.filter((idx) => {
    const why = shardFailure(idx, sort, faults.failing);
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
    if (faults.timedOut.some((re) => re.test(idx.name))) continue;
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
  const aggregations = aggs
    ? runAggregations(
        answering,
        hits.map((h) => h.doc),
        aggs as Aggs,
        failures,
      )
    : undefined;
  return {
    took: 1,
    timed_out: faults.timedOut.length > 0,
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
    ...(aggregations ? { aggregations } : {}),
  };
}

/** The mapping of `field` (a dotted path) in the first of `indices` that maps it. */
function mappingOf(indices: Index[], field: string): { type?: string; format?: string } | undefined {
  for (const idx of indices) {
    let props: Record<string, unknown> | undefined = idx.mappings.properties;
    const parts = field.split('.');
    for (let i = 0; props && i < parts.length; i++) {
      const m = props[parts[i]] as { type?: string; format?: string; properties?: Record<string, unknown> } | undefined;
      if (m && i === parts.length - 1) return { type: m.type, format: m.format };
      props = m?.properties;
    }
  }
  return undefined;
}

type ShardFailure = { shard: number; index: string; node: string; reason: { type: string; reason: string }; status: number };

/** The aggregations' answer over `docs`, or undefined when no shard ran them; a ShardLevelError fails every shard that ran them. */
function runAggregations(answering: Index[], docs: Doc[], aggs: Aggs, failures: ShardFailure[]): Record<string, unknown> | undefined {
  const ctx: AggContext = { mapping: (field) => mappingOf(answering, field), buckets: { count: 0 } };
  try {
    const out = aggregate(docs, aggs, ctx);
    return answering.length ? out : undefined;
  } catch (err) {
    if (!(err instanceof ShardLevelError)) throw err;
    if (!answering.length) return undefined;
    const all = [
      ...failures,
      ...answering.map((idx) => ({ shard: 0, index: idx.name, node: 'double', reason: { type: err.type, reason: err.message }, status: err.status })),
    ];
    const status = Math.max(...all.map((f) => f.status));
    throw Object.assign(new EsError(status, 'search_phase_execution_exception', 'all shards failed', { type: err.type, reason: err.message }), {
      failures: all,
    });
  }
}
