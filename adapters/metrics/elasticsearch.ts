import { createHash } from 'node:crypto';
import type { estypes } from '@elastic/elasticsearch';
import { connectElasticsearch, type ElasticsearchConnection } from '../elasticsearch/client.ts';
import { elasticsearchCompat } from '../elasticsearch/compat.ts';
import { dailyIndex } from '../elasticsearch/daily-index.ts';
import { translateEsError } from '../elasticsearch/errors.ts';
import { partialResultsError } from '../elasticsearch/partial-results.ts';
import { indexTemplateOnce, TEMPLATE_PRIORITY } from '../elasticsearch/templates.ts';
import { VeerError } from '../../engine/shared/errors.ts';
import { Backoff } from '../../engine/shared/retry.ts';
import {
  resolveSeriesStep,
  type GatewayMetricsStore,
  type GatewayRequestSample,
  type MetricsPoint,
  type MetricsQuery,
  type MetricsSeriesQuery,
} from '../../engine/ports/metrics-store.ts';
import { seriesBuckets, seriesPoint, summarize } from './summary.ts';

export interface ElasticsearchMetricsStoreOptions extends ElasticsearchConnection {
  /** Samples go to `<indexPrefix>-requests-YYYY.MM.DD` (by request day, UTC). Default 'veer'. */
  indexPrefix?: string;
  /** Longest window (ms). Default 1 hour. */
  maxWindowMs?: number;
  /** `refresh` on each bulk (tests). Default false: visible after the index refresh interval. */
  refresh?: boolean;
  /** Resends of the bulk items the cluster refused with 429 (write queue full), with backoff. Default 5. */
  itemRetries?: number;
  /** Backoff between those resends. Default 100 ms doubling to 2 s, jittered. */
  itemBackoff?: { minMs?: number; maxMs?: number };
  now?: () => number;
}

type BulkOperation = Record<string, unknown>;

/**
 * `_id` per sample, a function of the batch's content and the sample's place in it. A
 * resent bulk (the transport resends on 502/503/504 and connection errors, and we resend
 * 429 items) then overwrites instead of counting a request twice. Identical samples in one
 * batch stay distinct by position; only a whole identical batch maps to the same ids.
 */
function sampleIds(samples: GatewayRequestSample[]): string[] {
  const batch = createHash('sha256')
    .update(JSON.stringify(samples.map((s) => [s.time, s.gateway, s.route, s.server, s.status, s.durationMs, s.bytes])))
    .digest('hex')
    .slice(0, 24);
  return samples.map((_, i) => `${batch}-${i.toString(36)}`);
}

/** Item statuses worth resending: the cluster was busy, not the document wrong. */
const RETRYABLE_ITEM = new Set([429]);

/** One series bucket's sub-aggregations as ES answers them (`percentiles` keys are `"50.0"`, …). */
interface SeriesBucket {
  key: number;
  doc_count: number;
  requests: { value: number };
  errors: { doc_count: number };
  pct: { values: Record<string, number | null> };
}

/**
 * Request samples as documents (replaces Vamp's Logstash/Filebeat step): `_bulk` into
 * daily indices under a template, numbers from aggregations (value count, 5xx filter,
 * avg, percentiles). Windows are whole seconds, like the Redis store, so both count the
 * same requests; percentiles differ only by the histogram's precision there.
 *
 * The requests template sets `refresh_interval: 5s` (cheap ingest), so the last seconds
 * of samples are not yet searchable. Windows end at "now", and the Redis store counts
 * those seconds: a query first refreshes the daily indices its window spans, so both
 * stores agree on the same traffic. Ending windows 5 s early instead would shift every
 * verdict and disagree with Redis. The cost is one `_refresh` per query (analysis queries
 * run every few seconds per gateway, not per request).
 *
 * Series are one search too: a `date_histogram` per series (the gateway's, and one under a
 * `filter` per requested route) with the same sub-aggregations per bucket, on the buckets
 * `seriesBuckets` computes for Redis (see `series`).
 */
export function createElasticsearchMetricsStore(options: ElasticsearchMetricsStoreOptions): GatewayMetricsStore {
  const { client, close } = connectElasticsearch(options);
  const prefix = options.indexPrefix ?? 'veer';
  const pattern = `${prefix}-requests-*`;
  const now = options.now ?? Date.now;
  const maxWindowMs = options.maxWindowMs ?? 3600_000;
  const itemRetries = options.itemRetries ?? 5;
  const compat = () => elasticsearchCompat(client, 'metrics');
  const ensureTemplate = indexTemplateOnce(client, 'metrics', {
    name: `${prefix}-requests`,
    index_patterns: [pattern],
    priority: TEMPLATE_PRIORITY.requests,
    template: {
      settings: { number_of_shards: 1, refresh_interval: '5s' },
      mappings: {
        dynamic: false,
        properties: {
          '@timestamp': { type: 'date', format: 'epoch_millis||strict_date_optional_time' },
          gateway: { type: 'keyword' },
          route: { type: 'keyword' },
          server: { type: 'keyword' },
          status: { type: 'short' },
          durationMs: { type: 'float' },
          bytes: { type: 'long' },
        },
      },
    },
  });

  /** Bulk-indexes `pairs` (action, document); resends only the items refused with 429. Returns how many were finally refused. */
  async function bulk(pairs: Array<[BulkOperation, BulkOperation]>): Promise<number> {
    const c = await compat();
    const backoff = new Backoff({ minMs: options.itemBackoff?.minMs ?? 100, maxMs: options.itemBackoff?.maxMs ?? 2000 });
    let pending = pairs;
    let refused = 0;
    for (let attempt = 0; pending.length; attempt++) {
      const res = await client.bulk({ operations: pending.flat(), ...(options.refresh ? { refresh: true } : {}) }, c.ndjson);
      if (!res.errors) return refused;
      const retry: typeof pending = [];
      res.items.forEach((item, i) => {
        const r = Object.values(item)[0];
        if (!r?.error) return;
        if (RETRYABLE_ITEM.has(r.status) && attempt < itemRetries) retry.push(pending[i]);
        else refused++;
      });
      pending = retry;
      if (pending.length) await backoff.wait();
    }
    return refused;
  }

  /** The daily indices a window [from, to] (ms) spans. */
  const windowIndices = (from: number, to: number) => {
    const names = new Set<string>();
    for (let day = from - (from % 86_400_000); day <= to; day += 86_400_000) names.add(dailyIndex(prefix, 'requests', day));
    names.add(dailyIndex(prefix, 'requests', to));
    return [...names].join(',');
  };

  /**
   * One aggregation search over the window's daily indices, after a refresh: the window ends
   * now and the indices refresh every 5 s, so the last seconds are made searchable first.
   * Numbers from some shards only would under-count (a verdict could promote a bad canary, a
   * chart show a dip that did not happen): partial results are METRICS.UNAVAILABLE.
   */
  async function searchFresh(what: 'query' | 'series', index: string, body: estypes.SearchRequest): Promise<estypes.SearchResponse> {
    const c = await compat();
    let res: estypes.SearchResponse;
    try {
      const refreshed = await client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true }, c.json);
      const stale = partialResultsError('metrics', `${what} (refresh before the window)`, { _shards: refreshed._shards });
      if (stale) throw stale;
      res = await client.search({ ...body, index, ignore_unavailable: true, allow_no_indices: true }, c.json);
    } catch (err) {
      throw translateEsError('metrics', `${what} (search with aggregations)`, err);
    }
    const partial = partialResultsError('metrics', `${what} (search with aggregations)`, res);
    if (partial) throw partial;
    return res;
  }

  return {
    kind: 'elasticsearch',

    async record(samples) {
      const valid = samples.filter((s) => s.gateway && Number.isFinite(s.time) && Number.isFinite(s.durationMs) && s.durationMs >= 0);
      let rejected = samples.length - valid.length;
      if (valid.length === 0) return { accepted: 0, rejected };
      await ensureTemplate();
      const ids = sampleIds(valid);
      const pairs = valid.map((s: GatewayRequestSample, i): [BulkOperation, BulkOperation] => [
        { index: { _index: dailyIndex(prefix, 'requests', s.time), _id: ids[i] } },
        { '@timestamp': s.time, gateway: s.gateway, route: s.route || '', server: s.server || '', status: s.status, durationMs: s.durationMs, bytes: s.bytes },
      ]);
      try {
        rejected += await bulk(pairs);
      } catch (err) {
        throw translateEsError('metrics', `record (_bulk of ${valid.length})`, err);
      }
      return { accepted: samples.length - rejected, rejected };
    },

    async query(gateway, q: MetricsQuery) {
      if (!(q.windowMs >= 1000) || q.windowMs > maxWindowMs) {
        throw new VeerError('METRICS.INVALID', `metrics window must be between 1s and ${maxWindowMs / 1000}s, got ${q.windowMs}ms`);
      }
      const end = now();
      const last = Math.floor(end / 1000);
      const first = Math.floor((end - q.windowMs) / 1000) + 1;
      const filter: estypes.QueryDslQueryContainer[] = [
        { term: { gateway } },
        { range: { '@timestamp': { gte: first * 1000, lt: (last + 1) * 1000, format: 'epoch_millis' } } },
      ];
      if (q.route !== undefined) filter.push({ term: { route: q.route } });
      const res = await searchFresh('query', windowIndices(first * 1000, last * 1000), {
        size: 0,
        track_total_hits: true,
        query: { bool: { filter } },
        aggs: {
          requests: { value_count: { field: 'durationMs' } },
          errors: { filter: { range: { status: { gte: 500, lte: 599 } } } },
          avg: { avg: { field: 'durationMs' } },
          pct: { percentiles: { field: 'durationMs', percents: [50, 95, 99] } },
        },
      });
      // No `aggregations` at all when no daily index of the window exists yet (a search on no
      // shard answers empty; elastic/elasticsearch#129762): no requests.
      const a = res.aggregations as
        | {
            requests: { value: number };
            errors: { doc_count: number };
            avg: { value: number | null };
            pct: { values: Record<string, number | null> };
          }
        | undefined;
      const requests = a?.requests.value ?? 0;
      return summarize(gateway, q, {
        requests,
        errors: a?.errors.doc_count ?? 0,
        durationSum: (a?.avg.value ?? 0) * requests,
        p50: a?.pct.values['50.0'] ?? null,
        p95: a?.pct.values['95.0'] ?? null,
        p99: a?.pct.values['99.0'] ?? null,
      });
    },

    async series(gateway, q: MetricsSeriesQuery) {
      if (!(q.windowMs >= 1000) || q.windowMs > maxWindowMs) {
        throw new VeerError('METRICS.INVALID', `metrics window must be between 1s and ${maxWindowMs / 1000}s, got ${q.windowMs}ms`);
      }
      const stepMs = resolveSeriesStep(q.windowMs, q.stepMs);
      // The same buckets as the Redis store: starts at multiples of the step since the epoch, the last one open.
      const { starts, stepS, nowS } = seriesBuckets(now(), q.windowMs, stepMs);
      const from = starts[0] * 1000;
      const withTotal = q.total !== false;
      const routes = q.routes ?? [];
      const series = (points: MetricsPoint[]) => ({
        gateway,
        windowMs: q.windowMs,
        stepMs,
        from,
        nextAt: (starts[starts.length - 1] + stepS) * 1000,
        ...(withTotal ? { total: points } : {}),
      });
      // fixed_interval buckets are aligned to the epoch in UTC (the default time_zone, no offset):
      // keys are the starts above. min_doc_count 0 with extended_bounds over every start returns
      // the empty buckets too. Only what a point reports is aggregated (no avg, no p95).
      // https://www.elastic.co/guide/en/elasticsearch/reference/current/search-aggregations-bucket-datehistogram-aggregation.html
      const histogram = (): estypes.AggregationsAggregationContainer => ({
        date_histogram: {
          field: '@timestamp',
          fixed_interval: `${stepS}s`,
          min_doc_count: 0,
          extended_bounds: { min: from, max: starts[starts.length - 1] * 1000 },
        },
        aggs: {
          requests: { value_count: { field: 'durationMs' } },
          errors: { filter: { range: { status: { gte: 500, lte: 599 } } } },
          pct: { percentiles: { field: 'durationMs', percents: [50, 99] } },
        },
      });
      const aggs: Record<string, estypes.AggregationsAggregationContainer> = {};
      if (withTotal) aggs.total = histogram();
      routes.forEach((route, i) => {
        aggs[`route${i}`] = { filter: { term: { route } }, aggs: { points: histogram() } };
      });
      const points = (buckets: SeriesBucket[] | undefined): MetricsPoint[] => {
        const byKey = new Map((buckets ?? []).map((b) => [b.key, b]));
        return starts.map((a) => {
          const b = byKey.get(a * 1000);
          const open = a + stepS > nowS + 1;
          return seriesPoint(a * 1000, open ? nowS - a + 1 : stepS, open, {
            requests: b?.requests.value ?? 0,
            errors: b?.errors.doc_count ?? 0,
            p50: b?.pct.values['50.0'] ?? null,
            p99: b?.pct.values['99.0'] ?? null,
          });
        });
      };
      if (Object.keys(aggs).length === 0) return { ...series([]), routes: [] };
      const res = await searchFresh('series', windowIndices(from, nowS * 1000), {
        size: 0,
        query: {
          bool: {
            filter: [
              { term: { gateway } },
              // Up to the current second, as Redis reads it: the open bucket counts its elapsed seconds.
              { range: { '@timestamp': { gte: from, lt: (nowS + 1) * 1000, format: 'epoch_millis' } } },
            ],
          },
        },
        aggs,
      });
      // Absent when no daily index of the window exists yet (elastic/elasticsearch#129762): all zero points.
      const a = res.aggregations as Record<string, { buckets?: SeriesBucket[]; points?: { buckets: SeriesBucket[] } }> | undefined;
      return {
        ...series(points(a?.total?.buckets)),
        routes: routes.map((route, i) => ({ route, points: points(a?.[`route${i}`]?.points?.buckets) })),
      };
    },

    close,
  };
}
