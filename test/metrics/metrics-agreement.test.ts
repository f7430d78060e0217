import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createElasticsearchMetricsStore } from '../../adapters/metrics/elasticsearch.ts';
import type { GatewayMetricsStore } from '../../engine/ports/metrics-store.ts';
import { createRedisMetricsStore } from '../../adapters/metrics/redis.ts';
import { near, NOW, traffic } from '../contract/metrics-store.contract.ts';
import { esTargets, type EsTarget } from '../contract/elasticsearch-targets.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';

// No refresh per write: the requests template's refresh_interval (5s) holds, as in production.
for (const target of esTargets())
  describe(`Redis and ${target.name} metrics agree`, () => {
    let server: TestRedis;
    let redis: Redis;
    let es: EsTarget;
    let stores: GatewayMetricsStore[];

    before(async () => {
      server = await startRedis();
      redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
      es = await target.start();
      const prefix = `t-${randomUUID().slice(0, 8)}`;
      stores = [
        createRedisMetricsStore({ redis, prefix, now: () => NOW }),
        createElasticsearchMetricsStore({ client: es.client, indexPrefix: prefix, now: () => NOW }),
      ];
    });
    after(async () => {
      for (const s of stores) await s.close();
      redis.disconnect();
      await es.stop();
      await server.stop();
    });

    it('the Redis and Elasticsearch stores report the same numbers for the same traffic, the last seconds included', async () => {
      // Long-tailed latencies (0.4 ms .. ~4 s) so every part of the histogram is used.
      let seed = 7;
      const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
      const samples = [
        ...traffic(
          'web',
          'stable',
          800,
          (i) => (i % 50 === 0 ? 502 : 200),
          () => Math.round(0.4 + Math.exp(rnd() * 6) * 10) / 10,
        ),
        ...traffic(
          'web',
          'canary',
          120,
          (i) => (i % 4 === 0 ? 500 : 200),
          () => Math.round(Math.exp(rnd() * 8.3)),
        ),
        // Requests of the last second before "now": not yet refreshed in Elasticsearch when queried.
        ...traffic(
          'web',
          'canary',
          30,
          () => 500,
          () => 50,
        ).map((s, i) => ({ ...s, time: NOW - 400 + (i % 10) })),
      ];
      for (const s of stores) await s.record(samples);
      for (const route of ['stable', 'canary', undefined]) {
        for (const windowMs of [10_000, 60_000]) {
          const [r, e] = await Promise.all(stores.map((s) => s.query('web', { route, windowMs })));
          const what = `${route ?? 'gateway'} over ${windowMs / 1000}s`;
          assert.deepEqual([r.requests, r.errors, r.errorRate, r.rate, r.noData], [e.requests, e.errors, e.errorRate, e.rate, e.noData], what);
          near(r.latency.avg, e.latency.avg!, `${what} avg`);
          for (const p of ['p50', 'p95', 'p99'] as const) near(r.latency[p], e.latency[p]!, `${what} ${p}`);
        }
      }
    });
  });
