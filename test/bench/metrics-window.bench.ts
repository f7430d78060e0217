/**
 * ctx.metrics 1 h window read on the Redis metrics store (real Redis), with per-minute rollups.
 * Baseline, measured in the same run on the same data: the per-second read (3,600 hashes).
 * Run: npm run bench -- metrics-window   (or node --no-node-snapshot test/bench/metrics-window.bench.ts [rounds])
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createRedisMetricsStore } from '../../adapters/metrics/redis.ts';
import type { GatewayRequestSample } from '../../engine/ports/metrics-store.ts';
import { startRedis } from '../helpers/redis-server.ts';

const rounds = Number(process.argv[2] ?? 40);
const HOUR = 3600_000;
const end = 1_800_000_000_000 + 12_345;
let clock = end - HOUR - 60_000;
const now = () => clock;

const server = await startRedis();
const redis = server.client();
try {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const writer = createRedisMetricsStore({ redis, prefix, now, retentionMs: 2 * HOUR });
  // Two requests per second on two routes for an hour and a minute.
  const samples: GatewayRequestSample[] = [];
  for (let t = end - HOUR - 60_000; t < end; t += 250) {
    samples.push({ time: t, gateway: 'shop', route: t % 500 ? 'v1' : 'v2', server: 's', status: t % 9000 ? 200 : 503, durationMs: 5 + (t % 997), bytes: 1 });
  }
  for (let i = 0; i < samples.length; i += 2000) {
    clock = samples[Math.min(samples.length, i + 2000) - 1].time + 500;
    await writer.record(samples.slice(i, i + 2000));
  }
  clock = end;
  const rolled = createRedisMetricsStore({ redis, prefix, now, retentionMs: 2 * HOUR });
  const seconds = createRedisMetricsStore({ redis, prefix, now, retentionMs: 2 * HOUR, readRollups: false });
  const time = async (store: typeof rolled) => {
    const xs: number[] = [];
    let answer = '';
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      answer = JSON.stringify(await store.query('shop', { route: 'v2', windowMs: HOUR }));
      xs.push(performance.now() - t0);
    }
    xs.sort((a, b) => a - b);
    return { p50: xs[Math.floor(xs.length / 2)], answer };
  };
  // Interleaved warm-up so neither path profits from running second.
  await time(seconds);
  await time(rolled);
  const base = await time(seconds);
  const mine = await time(rolled);
  if (base.answer !== mine.answer) throw new Error(`answers differ:\n${base.answer}\n${mine.answer}`);
  console.log(`1 h window, route v2, ${rounds} reads each (p50):`);
  console.log(`  per-second buckets (baseline): ${base.p50.toFixed(2)} ms`);
  console.log(`  minute rollups + edge seconds: ${mine.p50.toFixed(2)} ms  (${(base.p50 / mine.p50).toFixed(1)}× faster, same answer)`);
  // The dashboard's read: a 60 m series of 120 points (30 s steps, per second) for the gateway and route v2.
  const xs: number[] = [];
  for (let i = 0; i < Math.max(5, rounds / 4); i++) {
    const t0 = performance.now();
    const s = await rolled.series!('shop', { windowMs: HOUR, routes: ['v2'] });
    xs.push(performance.now() - t0);
    if (s.total!.length !== 120) throw new Error(`expected 120 points, got ${s.total!.length}`);
  }
  xs.sort((a, b) => a - b);
  console.log(`  series, 60 m in 120 points, gateway + v2: ${xs[Math.floor(xs.length / 2)].toFixed(2)} ms (p50)`);
} finally {
  redis.disconnect();
  await server.stop();
}
