import type { Redis } from 'ioredis';
import type { GatewayMetricsStore } from '../../engine/ports/metrics-store.ts';
import type { ElasticsearchConfig } from '../events/config.ts';
import type { MetricsConfig } from './config.ts';

export type { GatewayMetricsStore } from '../../engine/ports/metrics-store.ts';
export { createMetricsSink } from './sink.ts';

/** Maps VEER_METRICS_STORE to its implementation; the Elasticsearch client is imported only when configured. */
export async function createMetricsStore(
  config: MetricsConfig,
  deps: { redis: Redis; prefix: string; elasticsearch: ElasticsearchConfig },
): Promise<GatewayMetricsStore> {
  if (config.store === 'elasticsearch') {
    const { createElasticsearchMetricsStore } = await import('./elasticsearch.ts');
    return createElasticsearchMetricsStore({ ...deps.elasticsearch, maxWindowMs: config.retentionMs });
  }
  const { createRedisMetricsStore } = await import('./redis.ts');
  return createRedisMetricsStore({ redis: deps.redis, prefix: deps.prefix, retentionMs: config.retentionMs });
}
