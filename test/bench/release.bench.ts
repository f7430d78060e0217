/**
 * Release benchmark (`npm run bench -- release`), loopback only, about 4-5 minutes.
 *
 * 1. Failing canary → HAProxy serving stable 100 %, for a 1 s, 5 s and 10 s cron interval
 *    (RUNS each, default 3 to stay under ~6 minutes). The built-in canary-release template,
 *    installed from GET /api/v1/templates/canary-release, drives a real gateway (the agent's
 *    HAProxy) fed by real traffic: one in-process load loop. The release holds at a manual gate
 *    at 25 %, the canary healthy, until the canary has served a whole WINDOW there and a check
 *    at the gate passed; then the canary backend starts failing 5 % of its requests (every 20th
 *    is a 500, stable stays clean — the issue's failing-canary case). T0 = the first 500 the
 *    canary answers; T1 = the last request the canary backend receives, once the gateway says
 *    canary 0, the agent serves that revision and 50 probes through HAProxy all reach stable.
 *    The flip happens at a different phase of the tick in each run ((i + ½) / RUNS of the
 *    interval), so min / median / max span the tick alignment instead of repeating one case.
 *    Printed beside the bound interval × FAILURE_LIMIT and the window's onset (below).
 * 2. Signal → run started: a workflow with `trigger.signals: true` on a yearly cron, n signals
 *    posted one at a time (POST time → run.startedAt), interleaved with the same number of
 *    manual runs (POST …/runs, the baseline) on the same workflow, system and load.
 *
 * Why the window matters: a check judges the last WINDOW. With it full of healthy canary
 * traffic at T0, the canary's error rate over the window after t seconds is f × t / WINDOW (f the
 * failing fraction), so it exceeds stable's by MAX_ERROR_RATE_DELTA (d) only once
 * t > WINDOW × d / f — 1 s for a 5 s window at d 0.01, f 0.05. Only checks after that can fail;
 * the FAILURE_LIMIT-th failing one is at most FAILURE_LIMIT ticks later. Then a run, the weight
 * change through the KV store and the agent's runtime API. Metrics reach the store in the
 * agent's 200 ms log flushes and are kept in per-second buckets, which shifts the onset by up
 * to about a second more.
 */
import { failingFraction, startHttpBackend, type HttpBackend } from '../helpers/http-backends.ts';
import { freePort } from '../helpers/free-port.ts';
import { runLoad, startLoad } from '../helpers/load.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { WaitAborted, waitFor } from '../helpers/wait-for.ts';
import { cleanup, startE2eAgent, waitLive } from '../e2e/support.ts';

const RUNS = Number(process.env.BENCH_RELEASE_RUNS ?? 3);
const SIGNALS = Number(process.env.BENCH_RELEASE_SIGNALS ?? 50);
const ALL_INTERVALS = [
  { label: '1 s', cron: '* * * * * *', ms: 1000 },
  { label: '5 s', cron: '*/5 * * * * *', ms: 5000 },
  { label: '10 s', cron: '*/10 * * * * *', ms: 10_000 },
];
/** BENCH_RELEASE_INTERVALS=1,5 runs only those (seconds); BENCH_RELEASE_SIGNALS=0 skips section 2. */
const only = process.env.BENCH_RELEASE_INTERVALS?.split(',').map(Number);
const INTERVALS = only ? ALL_INTERVALS.filter((x) => only.includes(x.ms / 1000)) : ALL_INTERVALS;
const FAIL_FRACTION = 0.05;
const FAILURE_LIMIT = 2;
const MAX_ERROR_RATE_DELTA = 0.01;
const MIN_SAMPLES = 20;
const GATE_WEIGHT = 25;
/** At least 5 s (fewer samples make a noisy check), and never shorter than the interval (no unjudged gaps). */
const windowMs = (intervalMs: number) => Math.max(5000, intervalMs);
/** How long after T0 the window's error rate first exceeds stable's by MAX_ERROR_RATE_DELTA (see the top). */
const onsetMs = (win: number) => (win * MAX_ERROR_RATE_DELTA) / FAIL_FRACTION;
const HARD_STOP_MS = 480_000;

interface Sample {
  phaseMs: number;
  /** T1 − T0. */
  servedStableMs: number;
  /** T0 → the rollback run started (waiting for ticks, the checks). */
  detectMs: number;
  /** Rollback run started → last canary request (the run, KV, agent, HAProxy runtime API). */
  applyMs: number;
  failures: number;
  /** What the window analysis predicts for T1 − T0: the first tick after T0 + onset, then FAILURE_LIMIT − 1 more. */
  modelMs: number;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

function expectOk(r: { status: number; body: unknown }, what: string) {
  if (r.status < 200 || r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
}

/** A canary backend that answers 200 until flip(), then fails FAIL_FRACTION of its requests; it notes T0 and its last request. */
async function switchableCanary() {
  const s = { failFrom: undefined as number | undefined, firstFailAt: undefined as number | undefined, lastAt: 0 };
  const failing = failingFraction(FAIL_FRACTION);
  const backend: HttpBackend = await startHttpBackend('canary', (n) => {
    s.lastAt = Date.now();
    if (s.failFrom === undefined || n < s.failFrom) return 200;
    const code = failing(n - s.failFrom);
    if (code >= 500) s.firstFailAt ??= s.lastAt;
    return code;
  });
  return {
    backend,
    flip: () => (s.failFrom = backend.hits),
    get firstFailAt() {
      return s.firstFailAt;
    },
    get lastAt() {
      return s.lastAt;
    },
  };
}

const summary = (r: any) => (r ? JSON.stringify({ status: r.status, trigger: r.trigger, result: r.result, error: r.error?.message }) : 'none');

async function runsOf(t: TestSystem, name: string): Promise<any[]> {
  const r = await t.call('GET', `/api/v1/workflows/${name}/runs?limit=100`);
  expectOk(r, `runs of ${name}`);
  return r.body.runs;
}

async function oneRollback(t: TestSystem, template: any, interval: (typeof INTERVALS)[number], i: number): Promise<Sample> {
  const name = `rel-${interval.ms / 1000}s-${i}`;
  const win = windowMs(interval.ms);
  const stable = await startHttpBackend('stable');
  const canary = await switchableCanary();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  let load: ReturnType<typeof startLoad> | undefined;
  try {
    expectOk(
      await t.call('PUT', `/api/v1/gateways/${name}`, {
        port,
        routes: {
          stable: { weight: 100, targets: [{ host: '127.0.0.1', port: stable.port }] },
          canary: { weight: 0, targets: [{ host: '127.0.0.1', port: canary.backend.port }] },
        },
      }),
      `gateway ${name}`,
    );
    await waitLive(t, name);
    load = startLoad({ url, concurrency: 1, maxMs: 120_000 });
    const { trigger, ...workflow } = template;
    expectOk(
      await t.call('PUT', `/api/v1/workflows/${name}`, {
        ...workflow,
        trigger: { ...trigger, cron: interval.cron, timezone: 'UTC' },
        env: {
          ...workflow.env,
          GATEWAY: name,
          CANARY_DEPLOYMENT: null,
          STEPS: `[{"weight": ${GATE_WEIGHT}, "pause": "manual"}, 100]`,
          WINDOW: `${win / 1000}s`,
          MIN_SAMPLES,
          FAILURE_LIMIT,
          MAX_ERROR_RATE_DELTA,
          // Not this bench's subject: p99 tails of a busy 2-core machine, or a slow first window, must not end the release.
          P99_TOLERANCE_MS: 100,
          MAX_NO_DATA: 30,
        },
        permissions: { gateways: [name], deployments: {} },
      }),
      `workflow ${name}`,
    );

    // Healthy at the gate for a whole window, judged so by a check there.
    let seen: any[] = [];
    await waitFor(
      async () => {
        const first = canary.backend.firstHitAt;
        const runs = (seen = await runsOf(t, name));
        const bad = runs.find((r) => r.result?.failures > 0 || r.status === 'failed');
        if (bad) throw new WaitAborted(`${name}: a run failed or a check failed before the flip: ${summary(bad)}`);
        if (first === undefined || Date.now() < first + win) return false;
        return runs.some((r) => r.result?.action === 'paused' && r.result.verdict?.outcome === 'pass' && Date.parse(r.startedAt) >= first + win);
      },
      { timeoutMs: 4 * interval.ms + win + 30_000, intervalMs: 100, what: `${name}: a passing check at the gate` },
    ).catch((err: Error) => {
      throw err instanceof WaitAborted ? err : new Error(`${err.message}; runs: ${seen.map(summary).join(' ')}`);
    });
    // The flip's phase within the tick is this experiment's parameter, so wait for it.
    const phaseMs = Math.round((interval.ms * (i + 0.5)) / RUNS);
    let flipAt = Math.floor(Date.now() / interval.ms) * interval.ms + phaseMs;
    while (flipAt <= Date.now() + 20) flipAt += interval.ms;
    await sleepUntil(flipAt);
    canary.flip();

    const rollbackRun = await waitFor(async () => (await runsOf(t, name)).find((r) => r.result?.action === 'rolled_back'), {
      timeoutMs: win + (FAILURE_LIMIT + 3) * interval.ms + 30_000,
      intervalMs: 50,
      what: `${name}: rolled back`,
    });
    await waitFor(async () => (await t.call('GET', `/api/v1/gateways/${name}`)).body.routes.canary.weight === 0, {
      timeoutMs: 10_000,
      what: `${name}: canary 0`,
    });
    await waitLive(t, name);
    const probe = await runLoad({ url, requests: 50, concurrency: 1, keepAlive: false });
    if (probe.counts.stable !== 50)
      throw new Error(`${name}: after the rollback HAProxy served ${JSON.stringify(probe.counts)} (${JSON.stringify(probe.errors)})`);
    const t0 = canary.firstFailAt;
    if (t0 === undefined) throw new Error(`${name}: rolled back before the canary failed a request`);
    const t1 = canary.lastAt;
    const started = Date.parse(rollbackRun.startedAt);
    const firstFailingTick = Math.ceil((t0 + onsetMs(win)) / interval.ms) * interval.ms;
    const modelMs = firstFailingTick + (FAILURE_LIMIT - 1) * interval.ms - t0;
    return { phaseMs, servedStableMs: t1 - t0, detectMs: started - t0, applyMs: t1 - started, failures: rollbackRun.result.failures, modelMs };
  } finally {
    await cleanup([
      load && (() => load!.stop()),
      () => t.call('DELETE', `/api/v1/workflows/${name}`),
      () => t.call('DELETE', `/api/v1/gateways/${name}`),
      stable.close,
      canary.backend.close,
    ]);
  }
}

async function rollbacks(t: TestSystem) {
  const tpl = await t.call('GET', '/api/v1/templates/canary-release');
  expectOk(tpl, 'canary-release template');
  console.log(
    `failing canary → HAProxy serving stable 100 %: canary-release template, gate at ${GATE_WEIGHT} %, from T0 ${FAIL_FRACTION * 100} % of canary requests are 500s (stable clean), ` +
      `FAILURE_LIMIT ${FAILURE_LIMIT}, MAX_ERROR_RATE_DELTA ${MAX_ERROR_RATE_DELTA}, MIN_SAMPLES ${MIN_SAMPLES}, ${RUNS} runs per interval (flip at (i + ½)/${RUNS} of the tick)`,
  );
  console.log('  T0 = first 500 from the canary, T1 = last request the canary received (then 50 probes through HAProxy: all stable)');
  const rows: string[] = [];
  for (const interval of INTERVALS) {
    const samples: Sample[] = [];
    for (let i = 0; i < RUNS; i++) {
      try {
        const s = await oneRollback(t, tpl.body.workflow, interval, i);
        samples.push(s);
        console.log(
          `  ${interval.label.padEnd(5)} run ${i + 1}: flip at +${sec(s.phaseMs)} into the tick  T1−T0 ${sec(s.servedStableMs)}  ` +
            `model ${sec(s.modelMs)}  (T0 → rollback run started ${sec(s.detectMs)}, run started → last canary request ${sec(s.applyMs)}, failed checks ${s.failures})`,
        );
      } catch (err) {
        console.log(`  ${interval.label.padEnd(5)} run ${i + 1}: no sample: ${(err as Error).message}`);
      }
    }
    const win = windowMs(interval.ms);
    const bound = interval.ms * FAILURE_LIMIT;
    const onset = onsetMs(win);
    const v = samples.map((s) => s.servedStableMs);
    const apply = samples.map((s) => s.applyMs);
    rows.push(
      `  ${interval.label.padEnd(9)}${`${win / 1000} s`.padEnd(8)}${String(samples.length).padEnd(3)}` +
        (v.length ? `${sec(Math.min(...v))} / ${sec(pct(v, 50))} / ${sec(Math.max(...v))}`.padEnd(28) : '-'.padEnd(28)) +
        `${sec(bound).padEnd(10)}${sec(bound + onset).padEnd(18)}` +
        (apply.length ? `${sec(pct(apply, 50))}` : '-'),
    );
  }
  console.log('');
  console.log(
    `  ${'interval'.padEnd(9)}${'window'.padEnd(8)}${'n'.padEnd(3)}${'T1−T0 min / median / max'.padEnd(28)}${'I × F'.padEnd(10)}${'+ onset W·d/f'.padEnd(18)}run → stable (median)`,
  );
  for (const r of rows) console.log(r);
  console.log(
    '  bound I × F: the FAILURE_LIMIT-th failing check is at most F ticks after the first check that can fail; that first check comes only after the onset W·d/f ' +
      '(the window must hold enough failing requests), plus up to ~1 s of log flush and per-second buckets; "run → stable" is what follows the last check.',
  );
}

/** POST time → run.startedAt, and waits for the run to end so the next sample starts on an idle workflow. */
async function startLatency(t: TestSystem, post: () => Promise<string>): Promise<number> {
  const at = Date.now();
  const id = await post();
  const run = await waitFor(
    async () => {
      const r = await t.system.stores.runs.get(id);
      return r && ['succeeded', 'failed', 'timed_out', 'cancelled'].includes(r.status) && r;
    },
    { timeoutMs: 30_000, intervalMs: 2, what: `run ${id}` },
  );
  if (!run.startedAt) throw new Error(`run ${id} ended ${run.status} without starting`);
  return Date.parse(run.startedAt) - at;
}

async function signalLatency(t: TestSystem) {
  const name = 'bench-signal';
  expectOk(
    await t.call('PUT', `/api/v1/workflows/${name}`, {
      script: 'export default async function (ctx) { const s = await ctx.signals.take(); return s ? s.name : null }',
      // Once a year: only a signal or a manual POST starts a run while the bench lasts.
      trigger: { cron: '0 0 0 1 1 *', timezone: 'UTC', signals: true },
    }),
    'signal workflow',
  );
  const bySignal = async () => {
    const r = await t.call('POST', `/api/v1/workflows/${name}/signals`, { name: 'go' });
    expectOk(r, 'signal');
    if (r.body.run?.id) return r.body.run.id as string;
    if (r.body.run === null) throw new Error(`the signal started no run: ${JSON.stringify(r.body)}`);
    // The response may not name the run: find the one this signal started.
    const signalId = r.body.signal.id as string;
    const run = await waitFor(async () => (await runsOf(t, name)).find((x) => x.trigger?.signalId === signalId), {
      timeoutMs: 10_000,
      intervalMs: 2,
      what: 'signal run',
    });
    return run.id as string;
  };
  const manual = async () => {
    const r = await t.call('POST', `/api/v1/workflows/${name}/runs`, {});
    expectOk(r, 'manual run');
    return r.body.id as string;
  };
  for (let i = 0; i < 5; i++) {
    await startLatency(t, bySignal); // warm-up: sandbox processes, compiled script, connections
    await startLatency(t, manual);
  }
  const sig: number[] = [];
  const man: number[] = [];
  // Interleaved, so drift on a shared machine hits both alike.
  for (let i = 0; i < SIGNALS; i++) {
    sig.push(await startLatency(t, bySignal));
    man.push(await startLatency(t, manual));
  }
  const line = (label: string, xs: number[]) =>
    console.log(`  ${label.padEnd(40)} median ${pct(xs, 50)} ms  p95 ${pct(xs, 95)} ms  max ${Math.max(...xs)} ms  (n ${xs.length})`);
  console.log(`signal → run started (POST …/signals with trigger.signals: true → run.startedAt), idle system, in-process API calls:`);
  line('signal', sig);
  line('baseline: manual POST …/runs', man);
  console.log(`  signal − baseline (medians): ${pct(sig, 50) - pct(man, 50)} ms`);
  await t.call('DELETE', `/api/v1/workflows/${name}`);
}

async function main() {
  const hardStop = setTimeout(() => {
    console.error(`release bench: over ${HARD_STOP_MS / 1000} s, giving up`);
    process.exit(1);
  }, HARD_STOP_MS);
  hardStop.unref();
  const started = Date.now();
  const t = await startTestSystem({ engine: true });
  let agent: Awaited<ReturnType<typeof startE2eAgent>> | undefined;
  try {
    agent = await startE2eAgent(t);
    console.log(`release bench (Node ${process.version}, one API + engine + gateway agent in this process, HAProxy and Redis on loopback)`);
    // A section that fails says so and the other still runs; the exit status tells run.ts.
    for (const section of [SIGNALS > 0 ? signalLatency : undefined, rollbacks]) {
      if (!section) continue;
      try {
        await section(t);
      } catch (err) {
        console.log(`  section failed: ${(err as Error).message}`);
        process.exitCode = 1;
      }
      console.log('');
    }
  } finally {
    await cleanup([agent?.stop, t.stop]);
  }
  console.log(`total ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

await main();
