import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { createRedisMetricsStore } from '../../adapters/metrics/redis.ts';
import { createKeys } from '../../adapters/redis/keys.ts';
import type { GatewayMetricsStore, GatewayRequestSample } from '../../engine/ports/metrics-store.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';

/**
 * Per-minute rollups: a long window reads its whole minutes from minute hashes and only the
 * partial edge minutes per second, and answers exactly what reading every second answers.
 */

const MIN = 60_000;
// An epoch minute boundary plus an odd offset, so traffic starts and ends mid-minute.
const T0 = 1_800_000_000_000 + 23_456;
const ROUTES = ['v1', 'v2'];
const WINDOWS = [30_000, 90_000, 5 * MIN, 60 * MIN];

/** Deterministic pseudo-random numbers (mulberry32), so a failure replays. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 0–4 requests per second and route in [from, to), skipping `idle` ([from, to) ms) entirely. */
function traffic(seed: number, from: number, to: number, idle?: [number, number]): GatewayRequestSample[] {
  const rnd = prng(seed);
  const out: GatewayRequestSample[] = [];
  for (let sec = Math.ceil(from / 1000); sec * 1000 < to; sec++) {
    if (idle && sec * 1000 >= idle[0] && sec * 1000 < idle[1]) continue;
    for (const route of ROUTES) {
      const n = Math.floor(rnd() * 5);
      for (let i = 0; i < n; i++) {
        const r = rnd();
        const status = route === 'v2' && r < 0.08 ? 503 : r < 0.12 ? 404 : r < 0.13 ? 0 : 200;
        // Whole and half milliseconds: exact in binary, so sums do not depend on the grouping.
        const durationMs = Math.floor(2 ** (rnd() * 11) * 2) / 2;
        out.push({ time: sec * 1000 + Math.floor(rnd() * 1000), gateway: 'shop', route, server: `${route}-1`, status, durationMs, bytes: 100 });
      }
    }
  }
  return out;
}

/** Counts the hashes a client reads (HGETALL queued on its pipelines) and its pipelines. */
function countReads(redis: Redis) {
  const counts = { hashes: 0, pipelines: 0 };
  const pipeline = redis.pipeline.bind(redis);
  redis.pipeline = ((...args: Parameters<Redis['pipeline']>) => {
    const p = pipeline(...args);
    counts.pipelines++;
    const hgetall = p.hgetall.bind(p);
    p.hgetall = ((...a: Parameters<typeof p.hgetall>) => {
      counts.hashes++;
      return hgetall(...a);
    }) as typeof p.hgetall;
    return p;
  }) as Redis['pipeline'];
  return {
    reset: () => Object.assign(counts, { hashes: 0, pipelines: 0 }),
    counts,
  };
}

/** What any store must count for the window ending at `end`: the seconds (end − window, end]. */
function expectedCounts(samples: GatewayRequestSample[], end: number, windowMs: number, route?: string) {
  const first = Math.floor((end - windowMs) / 1000) + 1;
  const last = Math.floor(end / 1000);
  const inside = samples.filter((s) => (route === undefined || s.route === route) && Math.floor(s.time / 1000) >= first && Math.floor(s.time / 1000) <= last);
  return { requests: inside.length, errors: inside.filter((s) => s.status >= 500).length };
}

describe('metrics: per-minute rollups', () => {
  let server: TestRedis;
  const clients: Redis[] = [];
  const stores: GatewayMetricsStore[] = [];
  let clock = 0;
  const now = () => clock;
  const client = () => {
    const c = server.client({ maxRetriesPerRequest: 1 });
    clients.push(c);
    return c;
  };
  const store = (prefix: string, redis = clients[0], readRollups = true) => {
    const s = createRedisMetricsStore({ redis, prefix, now, retentionMs: 2 * 60 * MIN, readRollups });
    stores.push(s);
    return s;
  };
  /** Records in time order, the clock just behind each batch, as the agent's sink does. */
  const recordLive = async (s: GatewayMetricsStore, samples: GatewayRequestSample[]) => {
    for (let i = 0; i < samples.length; i += 250) {
      const batch = samples.slice(i, i + 250);
      clock = batch[batch.length - 1].time + 700;
      const res = await s.record(batch);
      assert.equal(res.accepted, batch.length);
    }
  };

  before(async () => {
    server = await startRedis();
    client();
  });
  after(async () => {
    for (const s of stores) await s.close();
    for (const c of clients) c.disconnect();
    await server.stop();
  });

  it('answers windows of 30 s to 1 h exactly as the per-second buckets do, reading ≤ 180 hashes for 1 h in one pipeline', async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}`;
    clock = T0 - 10 * MIN;
    const writer = store(prefix);
    // 75 minutes of traffic with 6 idle minutes in the middle, then late samples for earlier seconds.
    const live = traffic(1, T0, T0 + 75 * MIN, [T0 + 40 * MIN + 7_000, T0 + 46 * MIN + 3_000]);
    await recordLive(writer, live);
    const late = traffic(2, T0 + 10 * MIN, T0 + 12 * MIN).filter((_, i) => i % 7 === 0);
    assert.equal((await writer.record(late)).accepted, late.length);
    const all = [...live, ...late];

    const counted = client();
    const reads = countReads(counted);
    const rolled = store(prefix, counted);
    const secondsOnly = store(prefix, clients[0], false);
    // Unaligned ends, one just after a minute boundary and one on it.
    const ends = [T0 + 75 * MIN - 4_321, T0 + 70 * MIN + 30_001, Math.floor((T0 + 65 * MIN) / MIN) * MIN, T0 + 61 * MIN + 59_999];
    for (const end of ends) {
      clock = end;
      for (const windowMs of WINDOWS) {
        for (const route of [undefined, ...ROUTES, 'unknown']) {
          const q = { windowMs, ...(route !== undefined ? { route } : {}) };
          const what = `window ${windowMs / 1000}s ending ${end - T0}ms after T0, route ${route ?? '*'}`;
          reads.reset();
          const got = await rolled.query('shop', q);
          const want = await secondsOnly.query('shop', q);
          assert.deepEqual(got, want, what);
          const expected = expectedCounts(all, end, windowMs, route);
          assert.equal(got.requests, expected.requests, what);
          assert.equal(got.errors, expected.errors, what);
          if (windowMs === 60 * MIN) {
            if (route !== 'unknown') assert.ok(got.requests > 1000, what);
            assert.ok(reads.counts.hashes <= 180, `${what}: read ${reads.counts.hashes} hashes`);
            assert.equal(reads.counts.pipelines, 1, what);
          }
        }
      }
    }
    // The reference path really reads every second: 3,600 hashes for the same hour.
    clock = ends[0];
    const seconds = countReads(client());
    await store(prefix, clients[clients.length - 1], false).query('shop', { windowMs: 60 * MIN });
    assert.equal(seconds.counts.hashes, 3600);
  });

  it('data written before the upgrade (seconds only) reads the same: those minutes come from their seconds', async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}`;
    const keys = createKeys(prefix);
    // The old version: 30 minutes up to the upgrade at U, mid-minute. Simulated with the
    // current writer and its minute hashes deleted, which leaves exactly what the old one wrote.
    const U = T0 + 30 * MIN + 17_000;
    clock = T0 - 10 * MIN;
    const before = traffic(3, T0, U);
    await recordLive(store(prefix), before);
    const minuteKeys: string[] = [];
    for (let m = Math.floor(T0 / MIN); m <= Math.floor(U / MIN); m++) {
      for (const r of [...ROUTES, '*']) minuteKeys.push(keys.metricsMinuteBucket('shop', r, m));
    }
    assert.ok((await clients[0].del(...minuteKeys)) > 0);

    // The upgraded version starts at U and writes both, including the rest of U's minute.
    clock = U;
    const upgraded = store(prefix);
    const afterUpgrade = traffic(4, U, U + 40 * MIN);
    await recordLive(upgraded, afterUpgrade);
    const all = [...before, ...afterUpgrade];

    const counted = client();
    const reads = countReads(counted);
    const rolled = store(prefix, counted);
    const secondsOnly = store(prefix, clients[0], false);
    for (const end of [U + 25 * MIN + 1_234, U + 40 * MIN - 10]) {
      clock = end;
      for (const windowMs of WINDOWS) {
        for (const route of [undefined, 'v2']) {
          const q = { windowMs, ...(route !== undefined ? { route } : {}) };
          const what = `window ${windowMs / 1000}s ending ${end - U}ms after the upgrade, route ${route ?? '*'}`;
          reads.reset();
          const got = await rolled.query('shop', q);
          assert.deepEqual(got, await secondsOnly.query('shop', q), what);
          const expected = expectedCounts(all, end, windowMs, route);
          assert.equal(got.requests, expected.requests, what);
          assert.equal(got.errors, expected.errors, what);
        }
      }
    }
    // Once the window holds only minutes after the upgrade (plus the skew margin), rollups serve it.
    clock = U + 40 * MIN - 10;
    reads.reset();
    await rolled.query('shop', { windowMs: 30 * MIN });
    assert.ok(reads.counts.hashes <= 90, `read ${reads.counts.hashes} hashes`);
    assert.equal(reads.counts.pipelines, 1);
  });
});
