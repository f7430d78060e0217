import type { Client, estypes } from '@elastic/elasticsearch';
import { createElasticsearchClient, dailyIndex, translateEsError, type ElasticsearchConnection } from '../events/elasticsearch.ts';
import { VeerError } from '../../engine/shared/errors.ts';
import type { GatewayMetricsStore, GatewayRequestSample, MetricsQuery } from '../../engine/ports/metrics-store.ts';
import { summarize } from './summary.ts';

export interface ElasticsearchMetricsStoreOptions extends ElasticsearchConnection {
  client?: Client;
  /** Samples go to `<indexPrefix>-requests-YYYY.MM.DD` (by request day, UTC). Default 'veer'. */
  indexPrefix?: string;
  /** Longest window (ms). Default 1 hour. */
  maxWindowMs?: number;
  /** `refresh` on each bulk (tests). Default false: visible after the index refresh interval. */
  refresh?: boolean;
  now?: () => number;
}

/**
 * Request samples as documents (replaces Vamp's Logstash/Filebeat step): `_bulk` into
 * daily indices under a template, numbers from aggregations (value count, 5xx filter,
 * avg, percentiles). Windows are whole seconds, like the Redis store, so both count the
 * same requests; percentiles differ only by the histogram's precision there.
 */
export function createElasticsearchMetricsStore(options: ElasticsearchMetricsStoreOptions): GatewayMetricsStore {
  const client = createElasticsearchClient(options);
  const owned = !options.client;
  const prefix = options.indexPrefix ?? 'veer';
  const pattern = `${prefix}-requests-*`;
  const now = options.now ?? Date.now;
  const maxWindowMs = options.maxWindowMs ?? 3600_000;
  let template: Promise<void> | undefined;

  function ensureTemplate(): Promise<void> {
    template ??= client.indices
      .putIndexTemplate({
        name: `${prefix}-requests`,
        index_patterns: [pattern],
        priority: 200,
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
      })
      .then(
        () => undefined,
        (err) => {
          template = undefined;
          throw translateEsError('metrics', 'put index template', err);
        },
      );
    return template;
  }

  return {
    kind: 'elasticsearch',

    async record(samples) {
      const valid = samples.filter((s) => s.gateway && Number.isFinite(s.time) && Number.isFinite(s.durationMs) && s.durationMs >= 0);
      let rejected = samples.length - valid.length;
      if (valid.length === 0) return { accepted: 0, rejected };
      await ensureTemplate();
      const operations = valid.flatMap((s: GatewayRequestSample) => [
        { index: { _index: dailyIndex(prefix, 'requests', s.time) } },
        { '@timestamp': s.time, gateway: s.gateway, route: s.route || '', server: s.server || '', status: s.status, durationMs: s.durationMs, bytes: s.bytes },
      ]);
      try {
        const res = await client.bulk({ operations, ...(options.refresh ? { refresh: true } : {}) });
        if (res.errors) rejected += res.items.filter((i) => Object.values(i)[0]?.error).length;
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
      try {
        const res = await client.search({
          index: pattern,
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
        });
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
      } catch (err) {
        throw translateEsError('metrics', 'query (search with aggregations)', err);
      }
    },

    async close() {
      if (owned) await client.close();
    },
  };
}
