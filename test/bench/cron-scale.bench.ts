/**
 * Cron at scale: N workflows (BENCH_CRON_WORKFLOWS, default 10,000) with a per-minute cron each,
 * spread across the minute (6-field cron, seconds = i % 60) and across IANA zones (including
 * the half-hour offsets of Asia/Kolkata and Australia/Adelaide and Nepal's quarter hour),
 * trivial script, on three engine processes (the real `npm run engine` entry point, like
 * test/helpers/engine-process.ts) and a private redis-server.
 *
 *  1. Scheduler cost in this process, before anything else runs: createCronScheduler with
 *     in-memory stores and a launcher that starts nothing, so only the scheduler's own work
 *     counts (croner, its next-tick queue, timers, the periodic re-read). CPU per second with
 *     N/10 and N per-minute workflows, and with N that do not tick in the sample (idle cost).
 *     BENCH_CRON_SCHEDULER=<path> measures another version of cron-scheduler.ts instead (and
 *     stops there: the engines run the checked-out one).
 *  2. Upload: the first workflow through the API (PUT: validation, compile); the other N − 1
 *     straight into the workflow store with that stored spec and compiled script, a different
 *     cron and timezone each (the API would compile the same script N times). Redis
 *     `used_memory` before and after the upload, with no engine running: the workflows' own cost.
 *  3. Three engines start and register everything; then BENCH_CRON_MINUTES (default 2) whole
 *     minutes are counted. From the run records: per workflow and tick in the window, exactly
 *     one run (duplicates, misses, runs at times the pattern never names), tick → queued
 *     (the scheduler's part) and tick → run started p50/p99/max, runs/s, RSS and CPU seconds
 *     per engine process (its sandbox children apart), Redis memory after the runs.
 *
 * Run: npm run bench -- cron-scale   (BENCH_CRON_WORKFLOWS=1000 …; BENCH_CRON_ENGINE_CONCURRENCY=16 … for more runs at once)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Workflow } from '../../engine/domain/workflow.ts';
import type { StartRunResult } from '../../engine/runs/launcher.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import type { createCronScheduler as CreateCronScheduler } from '../../engine/triggers/cron-scheduler.ts';
import { startEngineProcess } from '../helpers/engine-process.ts';
import type { ServiceProcess } from '../helpers/process.ts';
import { startRedis } from '../helpers/redis-server.ts';
import { startTestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

const N = Number(process.env.BENCH_CRON_WORKFLOWS ?? 10_000);
const MINUTES = Number(process.env.BENCH_CRON_MINUTES ?? 2);
const ENGINES = 3;
/** Seconds of CPU sampling per scheduler-cost case. */
const SAMPLE_S = Number(process.env.BENCH_CRON_SAMPLE_S ?? 12);
const ZONES = ['UTC', 'Europe/Amsterdam', 'America/New_York', 'Asia/Kolkata', 'Australia/Adelaide', 'Asia/Kathmandu', 'America/Los_Angeles', 'Asia/Tokyo'];
const SCRIPT = 'export default async function (ctx) { return ctx.run.trigger.tick }';
/**
 * Runs at once per engine (VEER_ENGINE_CONCURRENCY). 16: 10,000 per-minute crons start 167 runs/s,
 * and with 4 per engine the three engines fall behind (every second tick skipped as an overlap).
 */
const engineEnv: Record<string, string> = { VEER_ENGINE_CONCURRENCY: process.env.BENCH_CRON_ENGINE_CONCURRENCY ?? '16' };
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat times are in these

const secondOf = (i: number) => i % 60;
const nameOf = (i: number) => `cron-${String(i).padStart(5, '0')}`;
const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (n: number) => (Number.isNaN(n) ? '-' : `${Math.round(n)} ms`);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** Runs `fn` over `items` with at most `width` at a time. */
async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

// ---- 1. the scheduler's own CPU ----------------------------------------------------------

async function schedulerCost(
  create: typeof CreateCronScheduler,
  n: number,
  cron: (i: number) => string,
): Promise<{ cpuPerS: number; fired: number; registerMs: number }> {
  const wfs = Array.from(
    { length: n },
    (_, i) => ({ name: nameOf(i), version: 1, trigger: { cron: cron(i), timezone: ZONES[i % ZONES.length] } }) as unknown as Workflow,
  );
  const last = new Map<string, number>();
  let fired = 0;
  const scheduler = create({
    triggers: {
      cron: {
        lastTick: async (w) => last.get(w),
        recordTick: async (w, t) => void last.set(w, Math.max(t, last.get(w) ?? 0)),
        initTick: async (w, t) => void (last.has(w) || last.set(w, t)),
      },
    },
    workflows: { list: async () => wfs, subscribe: () => () => undefined },
    launcher: {
      start: async (): Promise<StartRunResult> => {
        fired++;
        return { started: false, reason: 'duplicate' };
      },
    },
    logger: silentLogger(),
    catchUp: 'latest',
    catchUpWindowMs: 3600_000,
  });
  const t0 = performance.now();
  await scheduler.start();
  const registerMs = performance.now() - t0;
  await sleep(1500); // past the first wake-up
  const firedBefore = fired;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(SAMPLE_S * 1000);
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - w0) / 1000;
  await scheduler.stop();
  return { cpuPerS: (cpu.user + cpu.system) / 1e6 / wall, fired: (fired - firedBefore) / wall, registerMs };
}

// ---- processes ------------------------------------------------------------------------------

interface ProcSample {
  cpuS: number;
  rss: number;
  childRss: number;
  children: number;
}

function procStat(pid: number): { cpuS: number; ppid: number } | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpuS: (Number(f[11]) + Number(f[12])) / CLK_TCK };
  } catch {
    return undefined;
  }
}
function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
function sample(pid: number): ProcSample {
  const children = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => procStat(p)?.ppid === pid);
  return { cpuS: procStat(pid)?.cpuS ?? 0, rss: rssOf(pid), childRss: children.reduce((s, p) => s + rssOf(p), 0), children: children.length };
}

// ---- 2 + 3: the whole system ---------------------------------------------------------------

async function main() {
  const hardStop = setTimeout(
    () => {
      console.error('cron-scale bench: over its time limit, giving up');
      process.exit(1);
    },
    (MINUTES * 60 + 900) * 1000,
  );
  hardStop.unref();
  console.log(`cron-scale bench: ${N} per-minute workflows, ${ENGINES} engine processes, ${MINUTES} minute(s) counted (Node ${process.version})`);

  // 1. Scheduler cost, while nothing else of ours runs.
  const modulePath = process.env.BENCH_CRON_SCHEDULER;
  const { createCronScheduler } = (await import(
    modulePath ? pathToFileURL(modulePath).href : '../../engine/triggers/cron-scheduler.ts'
  )) as typeof import('../../engine/triggers/cron-scheduler.ts');
  console.log(
    `\n1. cron scheduler CPU in one process, in-memory stores, launcher starting nothing (${modulePath ?? 'engine/triggers/cron-scheduler.ts'}; ${SAMPLE_S} s samples)`,
  );
  const perMinute = (i: number) => `${secondOf(i)} * * * * *`;
  // 04:07 on 1 March, in the workflow's zone: never inside the sample.
  const idle = (i: number) => `${secondOf(i)} 7 4 1 3 *`;
  const cases: Array<[string, number, (i: number) => string]> = [
    [`${Math.round(N / 10)} per-minute`, Math.round(N / 10), perMinute],
    [`${N} per-minute`, N, perMinute],
    [`${N} not due (1 March 04:07)`, N, idle],
  ];
  for (const [label, n, cron] of cases) {
    const r = await schedulerCost(createCronScheduler, n, cron);
    console.log(
      `   ${label.padEnd(30)} CPU ${(r.cpuPerS * 1000).toFixed(1).padStart(7)} ms/s   ticks ${r.fired.toFixed(1).padStart(6)}/s   ${r.fired > 0 ? `${((r.cpuPerS * 1000) / r.fired).toFixed(3)} ms CPU per tick` : ''}   (registering took ${Math.round(r.registerMs)} ms)`,
    );
  }

  // Another scheduler version can only be measured here: the engines run the checked-out one.
  if (modulePath) return;

  // 2. Upload.
  const server = await startRedis();
  const procs: ServiceProcess[] = [];
  const t = await startTestSystem({ engine: false, redis: server });
  try {
    const redis = t.redisClient;
    const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    const memBefore = await usedMemory();
    const u0 = performance.now();
    const put = await t.call('PUT', `/api/v1/workflows/${nameOf(0)}`, { script: SCRIPT, trigger: { cron: perMinute(0), timezone: ZONES[0] } });
    if (put.status !== 200) throw new Error(`PUT answered ${put.status}: ${JSON.stringify(put.body)}`);
    const stored = await t.system.stores.workflows.require(nameOf(0));
    const { name: _n, version: _v, createdAt: _c, updatedAt: _u, compiled, paused: _p, ...spec } = stored;
    const rest = Array.from({ length: N - 1 }, (_, k) => k + 1);
    await inParallel(rest, 64, async (i) => {
      await t.system.stores.workflows.put(
        nameOf(i),
        { ...spec, trigger: { ...spec.trigger, cron: perMinute(i), timezone: ZONES[i % ZONES.length] } } as typeof spec,
        compiled,
      );
    });
    const uploadS = (performance.now() - u0) / 1000;
    const memUploaded = await usedMemory();
    console.log(
      `\n2. upload: 1 workflow by the API, ${N - 1} into the workflow store directly (64 at a time): ${uploadS.toFixed(1)} s (${Math.round(N / uploadS)}/s)`,
    );
    console.log(
      `   Redis used_memory ${mb(memBefore)} → ${mb(memUploaded)}: ${Math.round((memUploaded - memBefore) / N)} bytes per workflow (definition, versions hash, name)`,
    );

    // What each engine's periodic full re-read (every 5 s, the safety net for lost change messages) costs.
    const lists: number[] = [];
    for (let k = 0; k < 3; k++) {
      const l0 = performance.now();
      await t.system.stores.workflows.list();
      lists.push(performance.now() - l0);
    }
    console.log(`   workflows.list() of all ${N}: ${lists.map((x) => Math.round(x)).join(' / ')} ms (each engine re-reads every 5 s)`);

    // 3. Engines.
    const e0 = Date.now();
    for (let k = 0; k < ENGINES; k++) procs.push(startEngineProcess({ ...t.env, ...engineEnv, VEER_SHUTDOWN_GRACE_MS: '3000' }));
    await waitFor(
      async () => {
        for (const p of procs) p.assertRunning();
        return (await redis.scard(t.keys.engines)) === ENGINES;
      },
      { timeoutMs: 120_000, what: `${ENGINES} engines to register` },
    );
    // Every workflow has a last-tick key once some engine registered it.
    const names = Array.from({ length: N }, (_, i) => nameOf(i));
    await waitFor(
      async () => {
        for (const p of procs) p.assertRunning();
        const found = await redis.exists(...names.map((n) => t.keys.cronLastTick(n)));
        return found === N;
      },
      { timeoutMs: 300_000, intervalMs: 500, what: 'every workflow registered by an engine' },
    );
    const registeredS = (Date.now() - e0) / 1000;
    // Window: whole minutes, starting at least 10 s after registration (the other engines finish theirs).
    const windowStart = Math.ceil((Date.now() + 10_000) / 60_000) * 60_000;
    const windowEnd = windowStart + MINUTES * 60_000;
    console.log(
      `\n3. ${ENGINES} engines (VEER_ENGINE_CONCURRENCY ${engineEnv.VEER_ENGINE_CONCURRENCY ?? t.env.VEER_ENGINE_CONCURRENCY}, VEER_SANDBOX_PROCESSES ${t.env.VEER_SANDBOX_PROCESSES}) up and every workflow registered after ${registeredS.toFixed(1)} s; window ${new Date(windowStart).toISOString()} … ${new Date(windowEnd).toISOString()} (waiting ${Math.round((windowStart - Date.now()) / 1000)} s for it)`,
    );
    await sleep(windowStart - Date.now());
    const pids = procs.map((p) => p.child.pid!);
    const at0 = pids.map(sample);
    const peak = pids.map(() => 0);
    const sampler = setInterval(() => pids.forEach((pid, k) => (peak[k] = Math.max(peak[k], rssOf(pid)))), 2000);
    await sleep(windowEnd - Date.now());
    const at1 = pids.map(sample);
    clearInterval(sampler);

    // Settle: runs of the window's last ticks start within a minute, or they are "late/not started".
    const runsOf = async () => {
      const all = new Map<string, Array<{ tick: number; queued: number; started?: number; finished?: number; status: string }>>();
      await inParallel(names, 64, async (name) => {
        const list = await t.system.stores.runs.list(name, { limit: 50 });
        all.set(
          name,
          list.map((r) => ({
            tick: Date.parse((r.trigger as { tick: string }).tick),
            queued: Date.parse(r.queuedAt),
            started: r.startedAt ? Date.parse(r.startedAt) : undefined,
            finished: r.finishedAt ? Date.parse(r.finishedAt) : undefined,
            status: r.status,
          })),
        );
      });
      return all;
    };
    let runs = await runsOf();
    const unstarted = () => [...runs.values()].flat().filter((r) => r.tick >= windowStart && r.tick < windowEnd && r.started === undefined).length;
    const settleUntil = Date.now() + 60_000;
    while (unstarted() > 0 && Date.now() < settleUntil) {
      await sleep(3000);
      runs = await runsOf();
    }
    const memAfterRuns = await usedMemory();

    let expected = 0;
    let duplicates = 0;
    /** Ticks with no run: what the tick's dedupe key says was decided instead (a skip reason), or nothing. */
    const noRun: Array<{ name: string; tick: number }> = [];
    let offPattern = 0;
    let inWindow = 0;
    let notStarted = 0;
    let failed = 0;
    const toQueued: number[] = [];
    const toStarted: number[] = [];
    names.forEach((name, i) => {
      const mine = (runs.get(name) ?? []).filter((r) => r.tick >= windowStart && r.tick < windowEnd);
      inWindow += mine.length;
      const byTick = new Map<number, number>();
      for (const r of mine) {
        byTick.set(r.tick, (byTick.get(r.tick) ?? 0) + 1);
        toQueued.push(r.queued - r.tick);
        if (r.started === undefined) notStarted++;
        else toStarted.push(r.started - r.tick);
        if (r.status === 'failed') failed++;
      }
      const want = new Set<number>();
      for (let m = windowStart; m < windowEnd; m += 60_000) want.add(m + secondOf(i) * 1000);
      expected += want.size;
      for (const tick of want) {
        const c = byTick.get(tick) ?? 0;
        if (c === 0) noRun.push({ name, tick });
        else duplicates += c - 1;
      }
      for (const tick of byTick.keys()) if (!want.has(tick)) offPattern += byTick.get(tick)!;
    });
    const decided = new Map<string, number>();
    const markers = noRun.length ? await redis.mget(...noRun.map((m) => t.keys.dedupe(m.name, `cron:${new Date(m.tick).toISOString()}`))) : [];
    for (const v of markers) {
      const why = v === null ? 'nothing (tick lost)' : v.startsWith('skipped:') ? v : `claimed by a run with no record`;
      decided.set(why, (decided.get(why) ?? 0) + 1);
    }
    const missing = noRun.length - [...decided].filter(([why]) => why.startsWith('skipped:')).reduce((sum, [, c]) => sum + c, 0);
    // Throughput: runs of any tick that finished inside the window.
    const finishedInWindow = [...runs.values()].flat().filter((r) => r.finished !== undefined && r.finished >= windowStart && r.finished < windowEnd).length;
    const windowS = (windowEnd - windowStart) / 1000;
    console.log(
      `   ticks expected ${expected}, runs for them ${inWindow}: duplicates ${duplicates}, off-pattern ${offPattern}, ticks without a run ${noRun.length}`,
    );
    for (const [why, count] of decided) console.log(`      without a run, decided as ${why}: ${count}`);
    console.log(
      `   runs queued ${(inWindow / windowS).toFixed(1)}/s (ticks due ${(N / 60).toFixed(1)}/s); runs finished in the window ${(finishedInWindow / windowS).toFixed(1)}/s; window runs not started within 60 s after it ${notStarted}; failed ${failed}`,
    );
    console.log(`   tick → queued (scheduler + launch)  p50 ${ms(pct(toQueued, 50))}  p99 ${ms(pct(toQueued, 99))}  max ${ms(Math.max(...toQueued))}`);
    console.log(`   tick → run started                  p50 ${ms(pct(toStarted, 50))}  p99 ${ms(pct(toStarted, 99))}  max ${ms(Math.max(...toStarted))}`);
    pids.forEach((_, k) => {
      const cpu = at1[k].cpuS - at0[k].cpuS;
      console.log(
        `   engine ${k + 1}: CPU ${cpu.toFixed(1)} s in ${windowS} s (${((100 * cpu) / windowS).toFixed(0)}% of a core), RSS ${mb(at1[k].rss)} (peak ${mb(peak[k])}), ${at1[k].children} sandbox process(es) ${mb(at1[k].childRss)}`,
      );
    });
    console.log(
      `   Redis used_memory after the runs ${mb(memAfterRuns)}: ${Math.round((memAfterRuns - memBefore) / N)} bytes per workflow with ${(inWindow / N).toFixed(1)}+ runs each (records, dedupe keys, history, queue), vs ${Math.round((memUploaded - memBefore) / N)} for the definitions alone`,
    );
    const ok = duplicates === 0 && missing === 0 && offPattern === 0;
    const skipped = noRun.length - missing;
    console.log(
      `\nverdict: ${ok ? `every tick in the window was decided exactly once (${inWindow} runs${skipped ? `, ${skipped} recorded skips` : ''})` : 'NOT exactly once: see duplicates / ticks without a run / off-pattern above'}${notStarted ? `; the engines did not keep up: ${notStarted} of the window's runs had not started 60 s after it` : ''}`,
    );
    if (!ok) {
      process.exitCode = 1;
      procs.forEach((p, k) => console.log(`\n--- engine ${k + 1}, last output ---\n${p.output().slice(-2000)}`));
    }
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await t.stop().catch(() => undefined);
    await server.stop();
  }
}

await main();
