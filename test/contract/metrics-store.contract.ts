import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RELATIVE_PRECISION } from '../../adapters/metrics/histogram.ts';
import type { GatewayMetricsStore, GatewayRequestSample } from '../../engine/ports/metrics-store.ts';

/**
 * The GatewayMetricsStore contract. Time is injected: every store in a test sees the
 * same fixed "now", so windows are exact.
 */
export interface MetricsStoreHarness {
  create(now: () => number): Promise<GatewayMetricsStore>;
  teardown(): Promise<void>;
}

export const NOW = 1_800_000_000_500;

/** Deterministic traffic: `n` requests spread over the last 30 s, status and latency from the index. */
export function traffic(gateway: string, route: string, n: number, status: (i: number) => number, latency: (i: number) => number): GatewayRequestSample[] {
  return Array.from({ length: n }, (_, i) => ({
    time: NOW - 30_000 + Math.floor((i * 30_000) / n),
    gateway,
    route,
    server: `${route}-1`,
    status: status(i),
    durationMs: latency(i),
    bytes: 100,
  }));
}

/** Exact percentile over raw values, the same interpolation ES's TDigest uses for small sets. */
export function exactPercentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * s.length;
  if (rank <= 0.5) return s[0];
  if (rank >= s.length - 0.5) return s[s.length - 1];
  const i = Math.floor(rank - 0.5);
  return s[i] + (rank - 0.5 - i) * (s[i + 1] - s[i]);
}

/** Within the histogram's relative precision (plus 1 ms for sub-bucket interpolation near 0). */
export function near(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null, `${what}: got null`);
  const tol = expected * RELATIVE_PRECISION * 1.5 + 1;
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} not within ±${tol.toFixed(2)} of ${expected}`);
}

export function runMetricsStoreContract(name: string, harness: () => Promise<MetricsStoreHarness>): void {
  describe(`GatewayMetricsStore contract: ${name}`, () => {
    let h: MetricsStoreHarness;
    const stores: GatewayMetricsStore[] = [];
    const fresh = async () => {
      const s = await h.create(() => NOW);
      stores.push(s);
      return s;
    };
    before(async () => {
      h = await harness();
    });
    after(async () => {
      for (const s of stores) await s.close();
      await h?.teardown();
    });

    it('computes requests, rate, 5xx errors, error rate and latency percentiles per route and per gateway', async () => {
      const store = await fresh();
      const stable = traffic(
        'shop',
        'v1',
        300,
        () => 200,
        (i) => 10 + ((i * 37) % 90),
      );
      const canary = traffic(
        'shop',
        'v2',
        200,
        (i) => (i % 5 === 0 ? 500 : i % 7 === 0 ? 404 : 200),
        (i) => 100 + ((i * 53) % 400),
      );
      const res = await store.record([
        ...stable,
        ...canary,
        ...traffic(
          'cart',
          'v1',
          50,
          () => 503,
          () => 5,
        ),
      ]);
      assert.deepEqual(res, { accepted: 550, rejected: 0 });

      const v2 = await store.query('shop', { route: 'v2', windowMs: 60_000 });
      assert.equal(v2.requests, 200);
      assert.equal(v2.errors, 40, 'only 5xx count as errors (404s do not)');
      assert.equal(v2.errorRate, 0.2);
      assert.equal(v2.rate, 200 / 60);
      assert.equal(v2.noData, false);
      const lat = canary.map((s) => s.durationMs);
      near(v2.latency.avg, lat.reduce((a, b) => a + b, 0) / lat.length, 'avg');
      near(v2.latency.p50, exactPercentile(lat, 50), 'p50');
      near(v2.latency.p95, exactPercentile(lat, 95), 'p95');
      near(v2.latency.p99, exactPercentile(lat, 99), 'p99');

      const v1 = await store.query('shop', { route: 'v1', windowMs: 60_000 });
      assert.deepEqual([v1.requests, v1.errors, v1.errorRate], [300, 0, 0]);
      const all = await store.query('shop', { windowMs: 60_000 });
      assert.deepEqual([all.requests, all.errors], [500, 40], 'the gateway without a route sums its routes');
      near(
        all.latency.p99,
        exactPercentile(
          [...stable, ...canary].map((s) => s.durationMs),
          99,
        ),
        'gateway p99',
      );
    });

    it('counts only requests inside the window', async () => {
      const store = await fresh();
      await store.record([
        ...traffic(
          'win',
          'r',
          20,
          () => 200,
          () => 10,
        ),
        ...traffic(
          'win',
          'r',
          20,
          () => 500,
          () => 10,
        ).map((s) => ({ ...s, time: s.time - 60_000 })),
      ]);
      const short = await store.query('win', { route: 'r', windowMs: 45_000 });
      assert.deepEqual([short.requests, short.errors], [20, 0]);
      const long = await store.query('win', { route: 'r', windowMs: 120_000 });
      assert.deepEqual([long.requests, long.errors], [40, 20]);
    });

    it('reports noData on silence and below the minimum sample count, with null numbers', async () => {
      const store = await fresh();
      const silent = await store.query('quiet', { windowMs: 60_000 });
      assert.equal(silent.noData, true);
      assert.deepEqual([silent.requests, silent.rate, silent.errors, silent.errorRate], [0, 0, 0, null]);
      assert.deepEqual(silent.latency, { avg: null, p50: null, p95: null, p99: null });
      await store.record(
        traffic(
          'few',
          'r',
          5,
          () => 500,
          () => 20,
        ),
      );
      const few = await store.query('few', { windowMs: 60_000 });
      assert.equal(few.noData, true, '5 samples < default minimum of 10');
      assert.equal(few.errorRate, 1);
      assert.equal((await store.query('few', { windowMs: 60_000, minSamples: 5 })).noData, false);
    });

    it('rejects an invalid window with METRICS.INVALID', async () => {
      const store = await fresh();
      await assert.rejects(store.query('x', { windowMs: 10 }), { code: 'METRICS.INVALID' });
    });

    it('series: points per step line up with the samples; empty buckets are zero points; the open bucket says when it closes', async () => {
      const store = await fresh();
      const canary = traffic(
        'ser',
        'v2',
        60,
        (i) => (i % 4 === 0 ? 500 : 200),
        (i) => 10 + i,
      );
      await store.record(canary);
      const s = await store.series!('ser', { windowMs: 5 * 60_000, stepMs: 10_000, routes: ['v2', 'v9'] });
      assert.equal(s.stepMs, 10_000);
      assert.equal(s.total!.length, 30);
      const lastStart = Math.floor(NOW / 10_000) * 10_000;
      assert.equal(s.nextAt, lastStart + 10_000);
      assert.equal(s.total!.at(-1)!.t, lastStart);
      assert.equal(s.total!.at(-1)!.partial, true);
      const v2 = s.routes.find((r) => r.route === 'v2')!.points;
      for (const p of v2) {
        const inside = canary.filter((x) => x.time >= p.t && x.time < p.t + 10_000);
        assert.equal(p.requests, inside.length, `bucket ${p.t}`);
        assert.equal(p.errors, inside.filter((x) => x.status >= 500).length);
        assert.equal(p.noData, inside.length === 0);
        if (inside.length)
          near(
            p.p99Ms ?? null,
            exactPercentile(
              inside.map((x) => x.durationMs),
              99,
            ),
            'bucket p99',
          );
        else assert.deepEqual([p.rps, p.errorRate, p.p50Ms], [0, null, undefined]);
      }
      assert.deepEqual(
        s.routes.find((r) => r.route === 'v9')!.points.map((p) => p.requests),
        Array(30).fill(0),
        'a route without traffic is a row of zero points',
      );
      assert.equal(
        v2.reduce((a, p) => a + p.requests, 0),
        60,
      );
      const hour = await store.series!('ser', { windowMs: 60 * 60_000, stepMs: 60_000, routes: ['v2'] });
      assert.equal(hour.total!.length, 60);
      assert.equal(
        hour.routes[0].points.reduce((a, p) => a + p.errors, 0),
        15,
        'minute steps give the per-second totals',
      );
      await assert.rejects(store.series!('ser', { windowMs: 60_000, stepMs: 500 }), { code: 'VALIDATION' });
    });
  });
}
