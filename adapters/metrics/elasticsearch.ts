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
import type { GatewayMetricsStore, GatewayRequestSample, MetricsQuery } from '../../engine/ports/metrics-store.ts';
import { summarize } from './summary.ts';

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
      const c = await compat();
      const index = windowIndices(first * 1000, last * 1000);
      let res;
      try {
        // The window ends now and the indices refresh every 5 s: make the last seconds searchable first.
        const refreshed = await client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true }, c.json);
        const stale = partialResultsError('metrics', 'query (refresh before the window)', { _shards: refreshed._shards });
        if (stale) throw stale;
        res = await client.search(
          {
            index,
            ignore_unavailable: true,
            allow_no_indices: true,
            size: 0,
            track_total_hits: true,
            query: { bool: { filter } },
            aggs: {
              requests: { value_count: { field: 'durationMs' } },
              errors: { filter: { range: { status: { gte: 500, lte: 599 } } } },
              avg: { avg: { field: 'durationMs' } },
              pct: { percentiles: { field: 'durationMs', percents: [50, 95, 99] } },
            },
          },
          c.json,
        );
      } catch (err) {
        throw translateEsError('metrics', 'query (search with aggregations)', err);
      }
      // Numbers from some shards only would under-count: a verdict on them could promote a bad canary.
      const partial = partialResultsError('metrics', 'query (search with aggregations)', res);
      if (partial) throw partial;
      const a = res.aggregations as {
        requests: { value: number };
        errors: { doc_count: number };
        avg: { value: number | null };
        pct: { values: Record<string, number | null> };
      };
      const requests = a.requests.value;
      return summarize(gateway, q, {
        requests,
        errors: a.errors.doc_count,
        durationSum: (a.avg.value ?? 0) * requests,
        p50: a.pct.values['50.0'] ?? null,
        p95: a.pct.values['95.0'] ?? null,
        p99: a.pct.values['99.0'] ?? null,
      });
    },

    // A date_histogram with per-bucket percentiles would answer this; not built yet (the protocol
    // double lacks date_histogram). A typed error, so a dashboard says why instead of failing opaquely.
    async series() {
      throw new VeerError(
        'METRICS.INVALID',
        'metrics series are not supported by the Elasticsearch metrics store yet; use VEER_METRICS_STORE=redis for charts (the aggregate GET /gateways/{name}/metrics works)',
        { details: { notSupported: 'series' } },
      );
    },

    close,
  };
}
