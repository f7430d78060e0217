import type { Redis } from 'ioredis';
import type { ElasticsearchConfig } from '../events/config.ts';
import type { MetricsConfig } from './config.ts';
import { createElasticsearchMetricsStore } from './elasticsearch.ts';
import type { GatewayMetricsStore } from '../../engine/ports/metrics-store.ts';
import { createRedisMetricsStore } from './redis.ts';

export type { GatewayMetricsStore } from '../../engine/ports/metrics-store.ts';
export { createMetricsSink } from './sink.ts';

/** Maps VEER_METRICS_STORE to its implementation. */
export function createMetricsStore(config: MetricsConfig, deps: { redis: Redis; prefix: string; elasticsearch: ElasticsearchConfig }): GatewayMetricsStore {
  if (config.store === 'elasticsearch') {
    return createElasticsearchMetricsStore({ ...deps.elasticsearch, maxWindowMs: config.retentionMs });
  }
  return createRedisMetricsStore({ redis: deps.redis, prefix: deps.prefix, retentionMs: config.retentionMs });
}
