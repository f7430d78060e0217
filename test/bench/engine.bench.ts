/**
 * Whole-engine throughput and latency next to raw BullMQ on the same Redis and concurrency.
 *  - baseline: BullMQ no-op jobs/s (Queue.addBulk + Worker with an empty processor)
 *  - engine: trivial-script runs/s through launcher → queue → sandbox → stored result
 *  - latency: queued → finished of single runs at low load (one at a time), p50/p99
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../../boot/config.ts';
import { startEngineFor } from '../../boot/engine.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { createSystem } from '../../boot/system.ts';
import { compileScript } from '../../engine/sandbox/compile.ts';
import { startRedis } from '../helpers/redis-server.ts';

const N = Number(process.env.BENCH_RUNS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const LAT_N = Number(process.env.BENCH_LATENCY_RUNS ?? 200);

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function rawBullmq(url: string): Promise<number> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const prefix = `b${randomUUID().slice(0, 6)}`;
  const queue = new Queue('raw', { connection, prefix });
  const jobs = Array.from({ length: N }, (_, i) => ({ name: 'noop', data: { i }, opts: { removeOnComplete: true, removeOnFail: true } }));
  const t0 = performance.now();
  for (let i = 0; i < jobs.length; i += 500) await queue.addBulk(jobs.slice(i, i + 500));
  let done = 0;
  const finished = new Promise<void>((resolve) => {
    const workerConnection = new Redis(url, { maxRetriesPerRequest: null });
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
  await queue.close();
  connection.disconnect();
  return rate;
}

async function main() {
  const redis = await startRedis();
  try {
    const baseline = await rawBullmq(redis.url);
    const env = {
      VEER_REDIS_URL: redis.url,
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
    for (let i = 0; i < LAT_N; i++) {
      const res = await s.launcher.start('bench', { trigger: { type: 'manual' }, input: i });
      if (!res.started) throw new Error('not started');
      for (;;) {
        const r = await s.runs.get(res.run.id);
        if (r?.status === 'succeeded') {
          lat.push(Date.parse(r.finishedAt!) - Date.parse(r.queuedAt));
          break;
        }
        if (r && r.status !== 'queued' && r.status !== 'running') throw new Error(`run ${r.status}: ${r.error?.message}`);
        await new Promise((r) => setImmediate(r));
      }
    }

    // Throughput: N runs enqueued at once.
    const before = (await s.stats.read()).byStatus.succeeded ?? 0;
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
    const failed = (await s.stats.read()).byStatus.failed ?? 0;

    console.log(`concurrency ${CONCURRENCY}, ${N} jobs/runs, Node ${process.version}`);
    console.log(`raw BullMQ no-op jobs:          ${baseline.toFixed(0)} jobs/s`);
    console.log(`Veer trivial runs (end to end): ${engineRate.toFixed(0)} runs/s  (failed: ${failed})`);
    console.log(`ratio engine / raw BullMQ:      ${(engineRate / baseline).toFixed(2)}  (target >= 0.5)`);
    console.log(`queued→finished at low load:    p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms over ${LAT_N} runs (target p50 < 10 ms)`);
    await system.close();
  } finally {
    await redis.stop();
  }
}

async function waitAllFinal(system: Awaited<ReturnType<typeof createSystem>>, n: number) {
  for (;;) {
    const st = await system.stores.stats.read();
    if ((st.byStatus.succeeded ?? 0) + (st.byStatus.failed ?? 0) >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

await main();
