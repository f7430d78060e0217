/**
 * Events benchmark (embedded Redis store), loopback only, bounded in time:
 *  1. events accepted per second through the API (POST /api/v1/events via app.request),
 *     sequential and 32 in flight, next to raw XADD on the same Redis (baseline);
 *  2. event → run start latency (POST accepted → launcher.start called by the trigger
 *     dispatcher, fake launcher), p50/p99, next to raw XADD → XREAD BLOCK wake-up;
 *  3. the same with the real engine (startTestSystem, engine on): event posted through the
 *     API → run.startedAt and → run.finishedAt of a trivial events-triggered workflow,
 *     p50/p99 over sequential events, next to section 2's fake-launcher figure.
 * Run: node --no-node-snapshot test/bench/events.bench.ts   (or npm run bench -- events)
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisStreamEventStore } from '../../adapters/events/redis-streams.ts';
import { createApp } from '../../api/app.ts';
import { createEventRoutes } from '../../api/routes/events.ts';
import { createEventBus } from '../../engine/events/bus.ts';
import { createEventTriggerDispatcher } from '../../engine/events/trigger-dispatcher.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { createFakeLauncher, workflow, workflowList } from '../events/fakes.ts';
import { startRedis } from '../helpers/redis-server.ts';
import { startTestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { createRedisCoordinationOn } from '../../adapters/redis/index.ts';

const N = Number(process.env.BENCH_EVENTS ?? 5000);
const LAT_N = Number(process.env.BENCH_LATENCY_EVENTS ?? 500);
const REAL_N = Number(process.env.BENCH_REAL_EVENTS ?? 300);
/** Section 3 has its own budget so the whole bench stays bounded. */
const REAL_BUDGET_MS = 30_000;
const deadline = Date.now() + 55_000;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 2 });

async function rate(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n && Date.now() < deadline) await op(next++);
    }),
  );
  return next / ((performance.now() - t0) / 1000);
}

const server = await startRedis();
const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
const reader = new Redis(server.url, { maxRetriesPerRequest: 1 });
try {
  const prefix = `bench-${randomUUID().slice(0, 6)}`;
  const store = createRedisStreamEventStore({ redis, prefix });
  const bus = createEventBus({ events: store, logger: silentLogger() });
  const app = createApp({ logger: silentLogger(), tokens: [], routers: [createEventRoutes({ events: store, bus })] });
  const body = JSON.stringify({ tags: ['releases:shop', 'bench'], type: 'deployed', value: { version: 2, weight: 10 } });
  const post = async () => {
    const r = await app.request('/api/v1/events', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    if (r.status !== 201) throw new Error(`POST /events answered ${r.status}`);
    return r.json() as Promise<{ id: string }>;
  };
  const raw = () => redis.xadd(`${prefix}:raw`, 'MAXLEN', '~', '100000', '*', 'd', body);

  // Warm-up (JIT, connections).
  await rate(300, 4, () => post());
  await rate(300, 4, () => raw());

  console.log(`events bench: ${N} events per throughput case, ${LAT_N} for latency (Node ${process.version}, Redis on loopback)`);
  console.log('\n1. events accepted per second');
  for (const c of [1, 32]) {
    const baseline = await rate(N, c, () => raw());
    const api = await rate(N, c, () => post());
    console.log(`   concurrency ${String(c).padStart(2)}: API ${fmt(api)}/s   raw XADD ${fmt(baseline)}/s   ratio ${fmt(api / baseline)}`);
  }

  console.log('\n2. event → run start latency (ms)');
  // Baseline: XADD → a blocked XREAD wakes up.
  const rawLat: number[] = [];
  const rawKey = `${prefix}:lat`;
  let lastId = '$';
  for (let i = 0; i < LAT_N && Date.now() < deadline; i++) {
    const t0 = performance.now();
    const read = reader.xread('BLOCK', 5000, 'STREAMS', rawKey, lastId) as Promise<Array<[string, Array<[string, string[]]>]> | null>;
    await new Promise((r) => setImmediate(r));
    await redis.xadd(rawKey, '*', 'd', body);
    const res = await read;
    lastId = res![0][1][0][0];
    rawLat.push(performance.now() - t0);
  }
  const launcher = createFakeLauncher();
  const dispatcher = createEventTriggerDispatcher({
    ...createRedisCoordinationOn(redis, prefix),
    events: store,
    launcher,
    logger: silentLogger(),
    workflows: workflowList([workflow('canary', { trigger: { events: { tags: ['releases:shop'], type: 'deployed' } } })]),
  });
  await dispatcher.start();
  await waitFor(() => dispatcher.leader, { what: 'dispatcher lease' });
  const lat: number[] = [];
  for (let i = 0; i < LAT_N && Date.now() < deadline; i++) {
    const before = launcher.started.length;
    const t0 = performance.now();
    await post();
    await waitFor(() => launcher.started.length > before, { timeoutMs: 5000, intervalMs: 0.5, what: 'run start' });
    lat.push(launcher.started[before].at - t0);
  }
  await dispatcher.stop();
  console.log(`   API + dispatcher: p50 ${fmt(pct(lat, 50))}  p99 ${fmt(pct(lat, 99))}  (n=${lat.length})`);
  console.log(`   raw XADD→XREAD:   p50 ${fmt(pct(rawLat, 50))}  p99 ${fmt(pct(rawLat, 99))}  (n=${rawLat.length})`);
  console.log(`   ratio p50 ${fmt(pct(lat, 50) / pct(rawLat, 50))}`);

  console.log('\n3. event → run with the real engine (ms; POST through the API → run.startedAt / run.finishedAt)');
  const t = await startTestSystem({ engine: true, redis: server });
  try {
    const name = 'on-deploy';
    const put = await t.call('PUT', `/api/v1/workflows/${name}`, {
      script: 'export default async function (ctx) { return ctx.input.value }',
      trigger: { events: { tags: ['releases:shop'], type: 'deployed' } },
      overlap: 'allow',
    });
    if (put.status !== 200) throw new Error(`PUT workflow answered ${put.status}: ${JSON.stringify(put.body)}`);
    const { redisClient: sysRedis, keys } = t;
    const { runs } = t.system.stores;
    const event = { tags: ['releases:shop', 'bench'], type: 'deployed', value: { version: 2, weight: 10 } };
    /** Posts one event and waits for its run to finish; times from just before the POST. */
    const one = async () => {
      const t0 = Date.now();
      const res = await t.call('POST', '/api/v1/events', event);
      if (res.status !== 201) throw new Error(`POST /events answered ${res.status}`);
      const runId = await waitFor(() => sysRedis.get(keys.dedupe(name, `event:${res.body.id as string}`)), {
        timeoutMs: 10_000,
        intervalMs: 1,
        what: 'the event to start a run',
      });
      const run = await waitFor(
        async () => {
          const r = await runs.get(runId);
          return r && r.finishedAt && r;
        },
        { timeoutMs: 10_000, intervalMs: 1, what: 'the run to finish' },
      );
      if (run.status !== 'succeeded') throw new Error(`run ${run.status}: ${run.error?.message}`);
      return { started: Date.parse(run.startedAt!) - t0, finished: Date.parse(run.finishedAt!) - t0 };
    };
    // Warm-up: the dispatcher lease and workflow list, sandbox processes, JIT.
    for (let i = 0; i < 20; i++) await one();
    const realDeadline = Date.now() + REAL_BUDGET_MS;
    const toStart: number[] = [];
    const toFinish: number[] = [];
    for (let i = 0; i < REAL_N && Date.now() < realDeadline; i++) {
      const r = await one();
      toStart.push(r.started);
      toFinish.push(r.finished);
    }
    console.log(`   event → run started:    p50 ${fmt(pct(toStart, 50))}  p99 ${fmt(pct(toStart, 99))}  (n=${toStart.length})`);
    console.log(`   event → run finished:   p50 ${fmt(pct(toFinish, 50))}  p99 ${fmt(pct(toFinish, 99))}  (n=${toFinish.length})`);
    console.log(`   vs 2. (fake launcher):  p50 ${fmt(pct(lat, 50))}  p99 ${fmt(pct(lat, 99))}  event → launcher.start`);
    console.log('   (real-engine times are whole ms: run timestamps are ISO strings; the bench polls Redis every 1 ms meanwhile)');
  } finally {
    await t.stop();
  }
  console.log(`\ntargets: thousands of events/s; p50 < 50 ms`);
  await bus.close();
} finally {
  redis.disconnect();
  reader.disconnect();
  await server.stop();
}
