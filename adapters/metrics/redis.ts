import { Redis } from 'ioredis';
import { UnavailableError, VeerError } from '../../engine/shared/errors.ts';
import { bucketOf, percentile } from './histogram.ts';
import {
  resolveSeriesStep,
  type GatewayMetrics,
  type GatewayMetricsStore,
  type GatewayRequestSample,
  type MetricsQuery,
} from '../../engine/ports/metrics-store.ts';
import { createKeys } from '../redis/keys.ts';
import { seriesBuckets, seriesPoint, summarize } from './summary.ts';

export interface RedisMetricsStoreOptions {
  redis?: Redis;
  url?: string;
  prefix: string;
  /** How long per-second buckets are kept (ms); also the longest window. Default 1 hour. */
  retentionMs?: number;
  now?: () => number;
  /**
   * false reads per-second buckets only, as before minute rollups existed (the reference the
   * rollup tests compare with). Writes always fill both. Default true.
   */
  readRollups?: boolean;
}

// The whole gateway is kept as its own series too, so a gateway query reads one key per second.
const ALL_ROUTES = '*';

// Minute hashes remember when the writer that created them started (HSETNX): how a reader
// tells a complete rollup from one that misses samples a pre-rollup version wrote (see `query`).
const SINCE = 'since';
// Sample times come from the gateways' clocks, `since` from the engine's: a minute is trusted only
// when its writer started this much before it, the same skew the TTLs allow for.
const CLOCK_SKEW_MS = 60_000;

interface Bucket {
  n: number;
  e: number;
  sum: number;
  classes: Map<string, number>;
  hist: Map<number, number>;
  minute: boolean;
}

/**
 * Embedded metrics: for each gateway, route and second a hash `{<prefix>:metrics}:<gw>:<route>:<sec>`
 * with `n` (requests), `e` (5xx), `c2xx`.. (status classes), `sum` (ms) and `h<i>`
 * (log-scale latency histogram, see histogram.ts), expiring after the retention; and the
 * same fields summed per minute in `{<prefix>:metrics}:<gw>:<route>:m<minute>`, so a long window
 * reads its whole minutes from ≤ 60 rollups and only its two partial edge minutes per second.
 * Counts are integers and the histogram has fixed buckets, so both paths give the same numbers.
 */
export function createRedisMetricsStore(options: RedisMetricsStoreOptions): GatewayMetricsStore {
  const owned = !options.redis;
  const redis = options.redis ?? new Redis(options.url ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  const retentionMs = options.retentionMs ?? 3600_000;
  const now = options.now ?? Date.now;
  const readRollups = options.readRollups ?? true;
  const keys = createKeys(options.prefix);
  const key = keys.metricsBucket;
  const minuteKey = keys.metricsMinuteBucket;
  const startedAt = now();
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
      const add = (k: string, s: GatewayRequestSample, minute = false) => {
        let b = buckets.get(k);
        if (!b) buckets.set(k, (b = { n: 0, e: 0, sum: 0, classes: new Map(), hist: new Map(), minute }));
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
        const min = Math.floor(sec / 60);
        add(key(s.gateway, s.route || '', sec), s);
        add(key(s.gateway, ALL_ROUTES, sec), s);
        add(minuteKey(s.gateway, s.route || '', min), s, true);
        add(minuteKey(s.gateway, ALL_ROUTES, min), s, true);
      }
      if (buckets.size === 0) return { accepted: 0, rejected };
      // A whole minute m is in some window until m·60 s + retention; every write to it happens at
      // or after its start, so the retention (the longest window) + 2 min outlives that, with
      // the same margin for clock skew between engines as the seconds get.
      const secondTtl = Math.ceil(retentionMs / 1000) + 60;
      const minuteTtl = Math.ceil(retentionMs / 1000) + 120;
      const p = redis.pipeline();
      for (const [k, b] of buckets) {
        p.hincrby(k, 'n', b.n);
        if (b.e) p.hincrby(k, 'e', b.e);
        p.hincrbyfloat(k, 'sum', b.sum);
        for (const [c, v] of b.classes) p.hincrby(k, c, v);
        for (const [h, v] of b.hist) p.hincrby(k, `h${h}`, v);
        if (b.minute) p.hsetnx(k, SINCE, startedAt);
        p.expire(k, b.minute ? minuteTtl : secondTtl);
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
      // One pipeline per round trip; every key shares the `{<prefix>:metrics}` tag, so one slot.
      // Reads the hashes `ks` and, with `sinceOf`, that hash's SINCE field (the last row: `{ since }`).
      const read = async (ks: string[], sinceOf?: string): Promise<Array<Record<string, string>>> => {
        const p = redis.pipeline();
        for (const k of ks) p.hgetall(k);
        if (sinceOf) p.hget(sinceOf, SINCE);
        try {
          return ((await p.exec()) ?? []).map(([err, v], i) => {
            if (err) throw err;
            if (i < ks.length) return v as Record<string, string>;
            return typeof v === 'string' ? { [SINCE]: v } : {};
          });
        } catch (err) {
          throw unavailable('query (pipeline HGETALL)', err);
        }
      };
      const secondsOf = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => key(gateway, route, from + i));
      // Whole minutes m with m·60 ≥ first and m·60 + 59 ≤ last come from rollups, the edges per second.
      const firstMin = Math.ceil(first / 60);
      const lastMin = Math.floor((last + 1) / 60) - 1;
      if (!readRollups || firstMin > lastMin) return total(gateway, q, await read(secondsOf(first, last)));
      const edges = [...secondsOf(first, firstMin * 60 - 1), ...secondsOf((lastMin + 1) * 60, last)];
      const minutes = Array.from({ length: lastMin - firstMin + 1 }, (_, i) => firstMin + i);
      // For one route, the gateway's last rollup also tells who wrote: a route without traffic in
      // the window has no hash of its own to tell it.
      const rows = await read(
        [...edges, ...minutes.map((m) => minuteKey(gateway, route, m))],
        route === ALL_ROUTES ? undefined : minuteKey(gateway, ALL_ROUTES, lastMin),
      );
      const used = rows.slice(0, edges.length);
      // Versions before rollups wrote seconds only: a minute they wrote has no rollup, or (the
      // upgrade's minute) one missing their part. A minute's rollup is trusted when a writer that
      // had started before the minute began created this or a later minute's hash: every write to
      // the minute came after that start, so from a version that rolls up, and an absent hash is
      // then a minute without traffic. Any other minute is read from its 60 seconds (2nd round trip).
      const earliestWriter = route !== ALL_ROUTES ? Number(rows.pop()?.[SINCE] ?? Infinity) : Infinity;
      const trust = trustedMinutes(
        minutes,
        minutes.map((_, i) => Number(rows[edges.length + i][SINCE])),
        earliestWriter,
      );
      const fallback: string[] = [];
      for (let i = minutes.length - 1; i >= 0; i--) {
        if (trust[i]) used.push(rows[edges.length + i]);
        else fallback.push(...secondsOf(minutes[i] * 60, minutes[i] * 60 + 59));
      }
      if (fallback.length) used.push(...(await read(fallback)));
      return total(gateway, q, used);
    },

    async series(gateway, q) {
      if (!(q.windowMs >= 1000) || q.windowMs > retentionMs) {
        throw new VeerError('METRICS.INVALID', `metrics window must be between 1s and the retention (${retentionMs / 1000}s), got ${q.windowMs}ms`);
      }
      const stepMs = resolveSeriesStep(q.windowMs, q.stepMs);
      const { starts, stepS, nowS } = seriesBuckets(now(), q.windowMs, stepMs);
      const names = [...(q.total === false ? [] : [ALL_ROUTES]), ...(q.routes ?? [])];
      // Long windows at steps of a minute or more read each bucket's whole minutes from rollups
      // and its edges per second, as `query` does for its window.
      const rollups = readRollups && q.windowMs >= 15 * 60_000 && stepS >= 60;
      const cells = names.map(() => starts.map(() => newTotals()));
      const reads: Array<{ cell: Totals; key: string; minute?: { route: string; m: number } }> = [];
      const seconds = (cell: Totals, route: string, from: number, to: number) => {
        for (let sec = from; sec <= Math.min(to, nowS); sec++) reads.push({ cell, key: key(gateway, route, sec) });
      };
      const allMinutes = new Set<number>();
      names.forEach((route, r) =>
        starts.forEach((a, b) => {
          const cell = cells[r][b];
          const z = a + stepS - 1;
          const firstMin = Math.ceil(a / 60);
          const lastMin = Math.floor((Math.min(z, nowS) + 1) / 60) - 1;
          if (!rollups || firstMin > lastMin) return seconds(cell, route, a, z);
          seconds(cell, route, a, firstMin * 60 - 1);
          seconds(cell, route, (lastMin + 1) * 60, z);
          for (let m = firstMin; m <= lastMin; m++) {
            allMinutes.add(m);
            reads.push({ cell, key: minuteKey(gateway, route, m), minute: { route, m } });
          }
        }),
      );
      // Which minutes' rollups are complete (see `query`): told by the gateway's minute hashes,
      // which every writer creates, read in the same round trip.
      const minutes = [...allMinutes].sort((x, y) => x - y);
      const pipelineRead = async (ks: string[], extra: string[] = []) => {
        const p = redis.pipeline();
        for (const k of ks) p.hgetall(k);
        for (const k of extra) p.hget(k, SINCE);
        try {
          return ((await p.exec()) ?? []).map(([err, v]) => {
            if (err) throw err;
            return v;
          });
        } catch (err) {
          throw unavailable('series (pipeline HGETALL)', err);
        }
      };
      const res = await pipelineRead(
        reads.map((x) => x.key),
        minutes.map((m) => minuteKey(gateway, ALL_ROUTES, m)),
      );
      const since = res.slice(reads.length).map((v) => Number(v ?? NaN));
      const trust = new Map(trustedMinutes(minutes, since).map((ok, i) => [minutes[i], ok]));
      const fallback: Array<{ cell: Totals; key: string }> = [];
      reads.forEach((x, i) => {
        if (!x.minute || trust.get(x.minute.m)) return addRow(x.cell, res[i] as Record<string, string>);
        for (let sec = x.minute.m * 60; sec < x.minute.m * 60 + 60; sec++) fallback.push({ cell: x.cell, key: key(gateway, x.minute.route, sec) });
      });
      if (fallback.length) (await pipelineRead(fallback.map((x) => x.key))).forEach((row, i) => addRow(fallback[i].cell, row as Record<string, string>));
      const points = (r: number) =>
        starts.map((a, b) => {
          const c = cells[r][b];
          const open = a + stepS > nowS + 1;
          return seriesPoint(a * 1000, open ? nowS - a + 1 : stepS, open, {
            requests: c.requests,
            errors: c.errors,
            p50: percentile(c.hist, c.requests, 50),
            p99: percentile(c.hist, c.requests, 99),
          });
        });
      const withTotal = q.total !== false;
      return {
        gateway,
        windowMs: q.windowMs,
        stepMs,
        from: starts[0] * 1000,
        nextAt: (starts[starts.length - 1] + stepS) * 1000,
        ...(withTotal ? { total: points(0) } : {}),
        routes: (q.routes ?? []).map((route, i) => ({ route, points: points(i + (withTotal ? 1 : 0)) })),
      };
    },

    async close() {
      if (owned) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * Whether each minute's rollup (ascending `minutes`, their hashes' SINCE in `since`) is complete:
 * a writer that started CLOCK_SKEW_MS before the minute created this or a later minute's hash.
 */
function trustedMinutes(minutes: number[], since: number[], earliest = Infinity): boolean[] {
  const out: boolean[] = [];
  for (let i = minutes.length - 1; i >= 0; i--) {
    if (since[i] < earliest) earliest = since[i];
    out[i] = earliest + CLOCK_SKEW_MS <= minutes[i] * 60_000;
  }
  return out;
}

interface Totals {
  requests: number;
  errors: number;
  durationSum: number;
  hist: Map<number, number>;
}
const newTotals = (): Totals => ({ requests: 0, errors: 0, durationSum: 0, hist: new Map() });

/** Adds a second or minute hash (same fields) to `t`. */
function addRow(t: Totals, row: Record<string, string>): void {
  for (const [f, v] of Object.entries(row)) {
    if (f === 'n') t.requests += Number(v);
    else if (f === 'e') t.errors += Number(v);
    else if (f === 'sum') t.durationSum += Number(v);
    else if (f[0] === 'h') {
      const i = Number(f.slice(1));
      t.hist.set(i, (t.hist.get(i) ?? 0) + Number(v));
    }
  }
}

/** Sums second and minute hashes alike; percentiles from the merged histogram. */
function total(gateway: string, q: MetricsQuery, rows: Array<Record<string, string>>): GatewayMetrics {
  const t = newTotals();
  for (const row of rows) addRow(t, row);
  const { requests, errors, durationSum, hist } = t;
  return summarize(gateway, q, {
    requests,
    errors,
    durationSum,
    p50: percentile(hist, requests, 50),
    p95: percentile(hist, requests, 95),
    p99: percentile(hist, requests, 99),
  });
}
