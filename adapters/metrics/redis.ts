import { Redis } from 'ioredis';
import { UnavailableError, VeerError } from '../../engine/shared/errors.ts';
import { bucketOf, percentile } from './histogram.ts';
import type { GatewayMetricsStore, GatewayRequestSample, MetricsQuery } from '../../engine/ports/metrics-store.ts';
import { createKeys } from '../redis/keys.ts';
import { summarize } from './summary.ts';

export interface RedisMetricsStoreOptions {
  redis?: Redis;
  url?: string;
  prefix: string;
  /** How long per-second buckets are kept (ms); also the longest window. Default 1 hour. */
  retentionMs?: number;
  now?: () => number;
}

// The whole gateway is kept as its own series too, so a gateway query reads one key per second.
const ALL_ROUTES = '*';

interface Bucket {
  n: number;
  e: number;
  sum: number;
  classes: Map<string, number>;
  hist: Map<number, number>;
}

/**
 * Embedded metrics: for each gateway, route and second a hash `<prefix>:metrics:<gw>:<route>:<sec>`
 * with `n` (requests), `e` (5xx), `c2xx`.. (status classes), `sum` (ms) and `h<i>`
 * (log-scale latency histogram, see histogram.ts), expiring after the retention.
 */
export function createRedisMetricsStore(options: RedisMetricsStoreOptions): GatewayMetricsStore {
  const owned = !options.redis;
  const redis = options.redis ?? new Redis(options.url ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  const retentionMs = options.retentionMs ?? 3600_000;
  const now = options.now ?? Date.now;
  const key = createKeys(options.prefix).metricsBucket;
  const unavailable = (op: string, err: unknown) =>
    new UnavailableError(
      'METRICS.UNAVAILABLE',
      `metrics store (redis): ${op} failed: Redis is unreachable (${(err as Error).message}); check that it runs at VEER_REDIS_URL`,
      { cause: err },
    );

  return {
    kind: 'redis',

    async record(samples) {
      const buckets = new Map<string, Bucket>();
      const oldest = now() - retentionMs;
      let rejected = 0;
      const add = (k: string, s: GatewayRequestSample) => {
        let b = buckets.get(k);
        if (!b) buckets.set(k, (b = { n: 0, e: 0, sum: 0, classes: new Map(), hist: new Map() }));
        b.n++;
        if (s.status >= 500 && s.status <= 599) b.e++;
        const cls = s.status >= 100 && s.status <= 599 ? `c${Math.floor(s.status / 100)}xx` : 'cother';
        b.classes.set(cls, (b.classes.get(cls) ?? 0) + 1);
        b.sum += s.durationMs;
        const h = bucketOf(s.durationMs);
        b.hist.set(h, (b.hist.get(h) ?? 0) + 1);
      };
      for (const s of samples) {
        if (!s.gateway || !Number.isFinite(s.time) || s.time < oldest || !Number.isFinite(s.durationMs) || s.durationMs < 0) {
          rejected++;
          continue;
        }
        const sec = Math.floor(s.time / 1000);
        add(key(s.gateway, s.route || '', sec), s);
        add(key(s.gateway, ALL_ROUTES, sec), s);
      }
      if (buckets.size === 0) return { accepted: 0, rejected };
      const ttl = Math.ceil(retentionMs / 1000) + 60;
      const p = redis.pipeline();
      for (const [k, b] of buckets) {
        p.hincrby(k, 'n', b.n);
        if (b.e) p.hincrby(k, 'e', b.e);
        p.hincrbyfloat(k, 'sum', b.sum);
        for (const [c, v] of b.classes) p.hincrby(k, c, v);
        for (const [h, v] of b.hist) p.hincrby(k, `h${h}`, v);
        p.expire(k, ttl);
      }
      try {
        const res = await p.exec();
        const failed = res?.find(([err]) => err);
        if (failed) throw failed[0];
      } catch (err) {
        throw unavailable('record (pipeline HINCRBY)', err);
      }
      return { accepted: samples.length - rejected, rejected };
    },

    async query(gateway, q: MetricsQuery) {
      if (!(q.windowMs >= 1000) || q.windowMs > retentionMs) {
        throw new VeerError('METRICS.INVALID', `metrics window must be between 1s and the retention (${retentionMs / 1000}s), got ${q.windowMs}ms`);
      }
      const end = now();
      const last = Math.floor(end / 1000);
      const first = Math.floor((end - q.windowMs) / 1000) + 1;
      const route = q.route === undefined ? ALL_ROUTES : q.route;
      const p = redis.pipeline();
      for (let s = first; s <= last; s++) p.hgetall(key(gateway, route, s));
      let rows: Array<Record<string, string>>;
      try {
        rows = ((await p.exec()) ?? []).map(([err, v]) => {
          if (err) throw err;
          return v as Record<string, string>;
        });
      } catch (err) {
        throw unavailable('query (pipeline HGETALL)', err);
      }
      let requests = 0;
      let errors = 0;
      let durationSum = 0;
      const hist = new Map<number, number>();
      for (const row of rows) {
        for (const [f, v] of Object.entries(row)) {
          if (f === 'n') requests += Number(v);
          else if (f === 'e') errors += Number(v);
          else if (f === 'sum') durationSum += Number(v);
          else if (f[0] === 'h') {
            const i = Number(f.slice(1));
            hist.set(i, (hist.get(i) ?? 0) + Number(v));
          }
        }
      }
      return summarize(gateway, q, {
        requests,
        errors,
        durationSum,
        p50: percentile(hist, requests, 50),
        p95: percentile(hist, requests, 95),
        p99: percentile(hist, requests, 99),
      });
    },

    async close() {
      if (owned) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
