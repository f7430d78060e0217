import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisMetricsStore } from '../../adapters/metrics/redis.ts';
import { runMetricsStoreContract } from './metrics-store.contract.ts';
import { startRedis } from '../helpers/redis-server.ts';

runMetricsStoreContract('redis (per-second histograms)', async () => {
  const server = await startRedis();
  const clients: Redis[] = [];
  return {
    async create(now) {
      const redis = server.client({ maxRetriesPerRequest: 1 });
      clients.push(redis);
      return createRedisMetricsStore({ redis, prefix: `t-${randomUUID().slice(0, 8)}`, now, retentionMs: 3600_000 });
    },
    async teardown() {
      for (const c of clients) c.disconnect();
      await server.stop();
    },
  };
});
