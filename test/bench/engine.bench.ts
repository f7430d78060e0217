/**
 * Whole-engine throughput and latency next to raw BullMQ on the same Redis and concurrency.
 *  - baseline: BullMQ no-op jobs/s (Queue.addBulk + Worker with an empty processor)
 *  - engine: trivial-script runs/s through launcher → queue → sandbox → stored result
 *  - latency: queued → finished of single runs at low load (one at a time), p50/p99
 *  - Redis commands executed per job/run, from the server's own count: every client's (Veer,
 *    BullMQ, the engine's background work) and the commands inside Lua scripts — Redis' work,
 *    not round trips (test/engine/redis-round-trips.test.ts counts and asserts those)
 *  - BENCH_REDIS=single|cluster|both (default both): the same figures on one redis-server and on a
 *    real three-master Redis Cluster with replicas, raw BullMQ beside each on the same Redis
 * Progress is watched on a connection of the bench's own, politely (1 ms), so the watching does
 * not queue behind or compete with the engine's commands.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createKeys } from '../../adapters/redis/keys.ts';
import { loadConfig } from '../../boot/config.ts';
import { startEngineFor } from '../../boot/engine.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { createSystem } from '../../boot/system.ts';
import { compileScript } from '../../engine/sandbox/compile.ts';
import { dataNodes } from '../../adapters/redis/target.ts';
import { startRedisCluster } from '../helpers/redis-cluster.ts';
import { onCluster, startRedis, type TestRedis } from '../helpers/redis-server.ts';

const N = Number(process.env.BENCH_RUNS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const LAT_N = Number(process.env.BENCH_LATENCY_RUNS ?? 200);

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Commands the servers have processed so far (INFO stats; every master of a cluster), every client's. */
async function commandsProcessed(redis: Redis): Promise<number> {
  let total = 0;
  for (const node of await dataNodes(redis)) total += Number(/total_commands_processed:(\d+)/.exec(await node.info('stats'))?.[1] ?? 0);
  return total;
}

const tick = () => new Promise((r) => setTimeout(r, 1));

async function rawBullmq(redis: TestRedis, watch: Redis): Promise<{ rate: number; commands: number }> {
  const connection = redis.client({ maxRetriesPerRequest: null });
  const c0 = await commandsProcessed(watch);
  // Hash-tagged, as BullMQ asks on a cluster (and as Veer's queue is).
  const prefix = `{b${randomUUID().slice(0, 6)}}`;
  const queue = new Queue('raw', { connection, prefix });
  const jobs = Array.from({ length: N }, (_, i) => ({ name: 'noop', data: { i }, opts: { removeOnComplete: true, removeOnFail: true } }));
  const t0 = performance.now();
  for (let i = 0; i < jobs.length; i += 500) await queue.addBulk(jobs.slice(i, i + 500));
  let done = 0;
  const finished = new Promise<void>((resolve) => {
    const workerConnection = redis.client({ maxRetriesPerRequest: null });
    const worker = new Worker('raw', async () => {}, { connection: workerConnection, prefix, concurrency: CONCURRENCY });
    worker.on('completed', () => {
      if (++done === N)
        void worker.close().then(() => {
          workerConnection.disconnect();
          resolve();
        });
    });
  });
  await finished;
  const rate = N / ((performance.now() - t0) / 1000);
  const commands = ((await commandsProcessed(watch)) - c0) / N;
  await queue.close();
  connection.disconnect();
  return { rate, commands };
}

async function benchOn(label: string, redis: TestRedis) {
  const watch = redis.client({ maxRetriesPerRequest: null });
  await watch.ping();
  try {
    const baseline = await rawBullmq(redis, watch);
    const env = {
      ...redis.env,
      VEER_REDIS_PREFIX: `bench${randomUUID().slice(0, 6)}`,
      VEER_ENGINE_CONCURRENCY: String(CONCURRENCY),
      VEER_SANDBOX_PROCESSES: '2',
      VEER_RUN_HISTORY: String(N * 2),
    };
    const config = loadConfig(env);
    const logger = silentLogger();
    const system = await createSystem(config, logger);
    await startEngineFor(system, logger);
    const s = system.stores;
    const keys = createKeys(config.core.redisPrefix);
    const script = 'export default async function (ctx) { return ctx.input }';
    await s.workflows.put(
      'bench',
      {
        script,
        env: {},
        limits: { timeoutMs: 10_000, memoryMb: 32, concurrency: 8 },
        retries: { attempts: 1, backoffMs: 0 },
        overlapQueue: 10,
        overlap: 'allow',
        enabled: true,
        permissions: { gateways: [], deployments: {} },
      },
      compileScript(script),
    );

    // Warm the sandbox processes.
    for (let i = 0; i < 20; i++) await s.launcher.start('bench', { trigger: { type: 'manual' }, input: i });
    await waitAllFinal(system, 20);

    // Latency at low load: one run at a time.
    const lat: number[] = [];
    // queued → the attempt started (launch, queue, worker pick-up, run record read); the rest is the attempt (sandbox, result stored).
    const pickup: number[] = [];
    for (let i = 0; i < LAT_N; i++) {
      const res = await s.launcher.start('bench', { trigger: { type: 'manual' }, input: i });
      if (!res.started) throw new Error('not started');
      const key = keys.run(res.run.id);
      for (;;) {
        const [status, queuedAt, startedAt, finishedAt, error] = (await watch.hmget(key, 'status', 'queuedAt', 'startedAt', 'finishedAt', 'error')).map((v) =>
          v ? JSON.parse(v) : v,
        );
        if (status === 'succeeded') {
          lat.push(Date.parse(finishedAt) - Date.parse(queuedAt));
          pickup.push(Date.parse(startedAt) - Date.parse(queuedAt));
          break;
        }
        if (status && status !== 'queued' && status !== 'running') throw new Error(`run ${status}: ${error?.message}`);
        await tick();
      }
    }

    // Throughput: N runs enqueued at once.
    const before = (await s.stats.read()).byStatus.succeeded ?? 0;
    const c0 = await commandsProcessed(watch);
    const t0 = performance.now();
    const starts: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) starts.push(s.launcher.start('bench', { trigger: { type: 'manual' }, input: i }));
    await Promise.all(starts);
    for (;;) {
      const st = await s.stats.read();
      if ((st.byStatus.succeeded ?? 0) + (st.byStatus.failed ?? 0) - before >= N) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const engineRate = N / ((performance.now() - t0) / 1000);
    const engineCommands = ((await commandsProcessed(watch)) - c0) / N;
    const failed = (await s.stats.read()).byStatus.failed ?? 0;

    console.log(`\n--- ${label}: concurrency ${CONCURRENCY}, ${N} jobs/runs, Node ${process.version}`);
    console.log(`raw BullMQ no-op jobs:          ${baseline.rate.toFixed(0)} jobs/s, ${baseline.commands.toFixed(1)} Redis commands executed/job`);
    console.log(
      `Veer trivial runs (end to end): ${engineRate.toFixed(0)} runs/s  (failed: ${failed}), ${engineCommands.toFixed(1)} Redis commands executed/run (Lua's inner ones included)`,
    );
    console.log(`ratio engine / raw BullMQ:      ${(engineRate / baseline.rate).toFixed(2)}  (target >= 0.3)`);
    console.log(`queued→finished at low load:    p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms over ${LAT_N} runs (target p50 <= 5 ms, p99 <= 20 ms)`);
    console.log(`  of which queued→started:      p50 ${pct(pickup, 50)} ms, p99 ${pct(pickup, 99)} ms (the rest is the attempt: sandbox and result)`);
    await system.close();
  } finally {
    watch.disconnect();
  }
}

async function main() {
  const which = process.env.BENCH_REDIS ?? 'both';
  if (which !== 'cluster') {
    const redis = await startRedis({ own: true });
    try {
      await benchOn('one redis-server', redis);
    } finally {
      await redis.stop();
    }
  }
  if (which !== 'single') {
    const cluster = await startRedisCluster();
    try {
      await benchOn('Redis Cluster, 3 masters + 3 replicas (the queue is one slot: one master)', onCluster(cluster.nodes));
    } finally {
      await cluster.stop();
    }
  }
}

async function waitAllFinal(system: Awaited<ReturnType<typeof createSystem>>, n: number) {
  for (;;) {
    const st = await system.stores.stats.read();
    if ((st.byStatus.succeeded ?? 0) + (st.byStatus.failed ?? 0) >= n) return;
    await tick();
  }
}

await main();
