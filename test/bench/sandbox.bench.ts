/**
 * Sandbox cost next to bare isolated-vm in the same run:
 *  - baseline: in-process `new ivm.Isolate` + context + eval + dispose (no child process, no bridge)
 *  - sandbox: trivial runs through createIsolatedSandbox (child processes, fresh isolate per run,
 *    bridge, IPC), one at a time and with several in flight; p50/p99 per run
 *  - code cache (code sent once per version, V8 cachedData) vs a miss every run, and isolate
 *    reuse (IsolatedSandboxOptions.isolateReuse, off by default) vs a fresh isolate per run,
 *    with the children's resident memory after each
 *  - the heap side channel reuse opens: a run timing its allocations after the previous run left
 *    garbage or not
 *  - host call round trip (isolate → child → engine → child → isolate), compileScript, and the
 *    cost of a log call past the cap
 * Bounded to well under a minute; `BENCH_RUNS` scales the run counts.
 */
import ivm from 'isolated-vm';
import { compileScript } from '../../engine/sandbox/compile.ts';
import { createIsolatedSandbox, type IsolatedSandbox } from '../../engine/sandbox/isolated-host.ts';
import { residentBytes } from '../../engine/sandbox/child-memory.ts';
import type { SandboxOutcome } from '../../engine/ports/sandbox-host.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { LIMITS, makeContext, makeScope } from '../sandbox/fixtures.ts';

const N = Number(process.env.BENCH_RUNS ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const PROCESSES = 2;

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

interface Figures {
  perSec: number;
  p50: number;
  p99: number;
}

/** Runs `job` n times with `concurrency` in flight; per-job latency in ms. */
async function measure(n: number, concurrency: number, job: (i: number) => Promise<void>): Promise<Figures> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await job(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { perSec: n / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99) };
}

const fmt = (f: Figures) => `${f.perSec.toFixed(0).padStart(6)} runs/s   p50 ${f.p50.toFixed(2).padStart(6)} ms   p99 ${f.p99.toFixed(2).padStart(6)} ms`;

async function bareIsolate(): Promise<void> {
  const isolate = new ivm.Isolate({ memoryLimit: LIMITS.memoryMb });
  try {
    const context = await isolate.createContext();
    const out = await context.eval('(() => 1 + 1)()', { timeout: LIMITS.cpuMs });
    if (out !== 2) throw new Error('baseline broke');
  } finally {
    isolate.dispose();
  }
}

const sandbox = createIsolatedSandbox({ processes: PROCESSES, runsPerProcess: CONCURRENCY, logger: silentLogger() });
const trivial = compileScript('export default async (ctx: { input: number }) => ctx.input + 1;');
const scope = makeScope();
const expectOk = (outcome: SandboxOutcome) => {
  if (outcome.status !== 'succeeded') throw new Error(`run failed: ${JSON.stringify(outcome)}`);
};
const runTrivial = async (i: number) => {
  expectOk(await sandbox.run({ code: trivial, context: makeContext(i), limits: LIMITS, capabilities: {}, scope }));
};
const reusing = createIsolatedSandbox({
  processes: PROCESSES,
  runsPerProcess: CONCURRENCY,
  logger: silentLogger(),
  isolateReuse: { maxRuns: 100, maxHeapMb: 32 },
});
/** `code` on `host`; `unique` makes each run's code differ (a code-cache miss every run). */
const runOn = (host: IsolatedSandbox, code: string, unique: boolean) => async (i: number) => {
  const c = unique ? `${code}\n// ${i} ${Math.random()}` : code;
  expectOk(await host.run({ code: c, context: makeContext(i), limits: LIMITS, capabilities: {}, scope }));
};
const rssMb = (host: IsolatedSandbox) => host.processIds().reduce((sum, pid) => sum + (residentBytes(pid) ?? 0), 0) / (1024 * 1024);
/** A ~100 KB script (200 functions), where parsing is a real part of the run. */
const bigScript = compileScript(
  Array.from(
    { length: 200 },
    (_, i) => `function f${i}(x: number): number { const a = [x, ${i}]; return a.reduce((s, v) => s + v * ${i}, 0) + ${'x * 2 + '.repeat(40)}1; }`,
  ).join('\n') + '\nexport default async (ctx: { input: number }) => f0(ctx.input) + f199(ctx.input);',
);

try {
  // Warm up both: children loaded, V8 code caches and JIT settled.
  await measure(50, 4, runTrivial);
  await measure(50, 4, bareIsolate);

  console.log(`trivial script, ${N} runs each, fresh isolate per run (${PROCESSES} sandbox processes)`);
  const base1 = await measure(N, 1, bareIsolate);
  const sb1 = await measure(N, 1, runTrivial);
  console.log(`  baseline in-process isolate, 1 at a time  ${fmt(base1)}`);
  console.log(`  sandbox host,               1 at a time  ${fmt(sb1)}   ratio ${(base1.perSec / sb1.perSec).toFixed(2)}x slower`);
  const baseC = await measure(N, CONCURRENCY, bareIsolate);
  const sbC = await measure(N, CONCURRENCY, runTrivial);
  console.log(`  baseline in-process isolate, ${CONCURRENCY} in flight ${fmt(baseC)}`);
  console.log(
    `  sandbox host,               ${CONCURRENCY} in flight ${fmt(sbC)}   ratio ${(baseC.perSec / sbC.perSec).toFixed(2)}x ${baseC.perSec >= sbC.perSec ? 'slower' : 'faster'}`,
  );

  const us = (f: Figures) => `${((1 / f.perSec) * 1e6).toFixed(0).padStart(6)} µs/run`;
  for (const [label, code] of [
    ['trivial script', trivial],
    [`${Math.round(bigScript.length / 1024)} KB script`, bigScript],
  ] as const) {
    await measure(50, 4, runOn(reusing, code, false));
    await measure(50, 4, runOn(sandbox, code, false));
    console.log(`${label}, ${N} runs each, ${CONCURRENCY} in flight (${PROCESSES} processes): code cache and isolate reuse`);
    const miss = await measure(N, CONCURRENCY, runOn(sandbox, code, true));
    const missRss = rssMb(sandbox);
    const hit = await measure(N, CONCURRENCY, runOn(sandbox, code, false));
    const hitRss = rssMb(sandbox);
    const reuse = await measure(N, CONCURRENCY, runOn(reusing, code, false));
    const reuseRss = rssMb(reusing);
    console.log(`  fresh isolate, code sent + compiled every run (miss)  ${us(miss)}  ${fmt(miss)}   children RSS ${missRss.toFixed(0)} MB`);
    console.log(
      `  fresh isolate, code cached in the child (hit)         ${us(hit)}  ${fmt(hit)}   children RSS ${hitRss.toFixed(0)} MB   ${(miss.perSec / hit.perSec).toFixed(2)}x the miss's time`,
    );
    console.log(
      `  reused isolate (same version) + code cache          ${us(reuse)}  ${fmt(reuse)}   children RSS ${reuseRss.toFixed(0)} MB   ${(hit.perSec / reuse.perSec).toFixed(2)}x the fresh isolate's time`,
    );
  }
  const st = reusing.stats();
  console.log(`  (reuse sandbox: ${st.reusedIsolates} of ${st.runs} runs got a reused isolate; code sent ${st.codeSent}, key only ${st.codeOmitted})`);

  // The side channel reuse opens: the previous run's garbage shows in the next run's allocation time.
  const probe = compileScript(`export default async (ctx) => {
    if (ctx.input === 'litter') { globalThis.keep = Array.from({ length: 200000 }, (_, i) => ({ i, s: 'x' + i })); return 0; }
    const t = Date.now(); let a = []; for (let k = 0; k < 20; k++) { a = Array.from({ length: 100000 }, (_, i) => ({ i })); } return Date.now() - t + a.length * 0;
  };`);
  const single = createIsolatedSandbox({ processes: 1, runsPerProcess: 1, logger: silentLogger(), isolateReuse: { maxRuns: 1000, maxHeapMb: 60 } });
  try {
    const timed = async (litter: boolean) => {
      const out = await single.run({ code: probe, context: makeContext(litter ? 'litter' : 'clean'), limits: LIMITS, capabilities: {}, scope });
      expectOk(out);
      const ms = await single.run({ code: probe, context: makeContext('time'), limits: LIMITS, capabilities: {}, scope });
      expectOk(ms);
      return (ms as { result: number }).result;
    };
    const clean: number[] = [];
    const littered: number[] = [];
    for (let i = 0; i < 15; i++) {
      clean.push(await timed(false));
      littered.push(await timed(true));
    }
    console.log(
      `heap side channel with reuse: a run's allocation loop took p50 ${pct(clean, 50)} ms after a clean run, ${pct(littered, 50)} ms after a run that left 200k objects (Date.now inside the isolate)`,
    );
  } finally {
    await single.close();
  }

  // Host calls: 200 sequential ctx.state.get per run, against a no-op capability.
  const CALLS = 200;
  const calls = compileScript(`export default async (ctx) => { for (let i = 0; i < ${CALLS}; i++) await ctx.state.get(i); return ${CALLS}; };`);
  const noCalls = compileScript(`export default async (ctx) => { for (let i = 0; i < ${CALLS}; i++) await Promise.resolve(i); return ${CALLS}; };`);
  const capabilities = { state: { get: async (_s: unknown, k: unknown) => k } };
  const timeRun = async (code: string) => {
    const t = performance.now();
    expectOk(await sandbox.run({ code, context: makeContext(0), limits: LIMITS, capabilities, scope }));
    return performance.now() - t;
  };
  const withCalls: number[] = [];
  const without: number[] = [];
  for (let i = 0; i < 20; i++) {
    withCalls.push(await timeRun(calls));
    without.push(await timeRun(noCalls));
  }
  const perCall = ((pct(withCalls, 50) - pct(without, 50)) / CALLS) * 1000;
  console.log(
    `host call round trip (isolate → child → engine → back), sequential: ${perCall.toFixed(0)} µs/call (the notes measured ≈50 µs for an in-process promise apply)`,
  );

  // compileScript (upload path): a small TypeScript script.
  const source =
    'interface W { v1: number; v2: number }\nexport default async function (ctx: { input: W }): Promise<W> {\n  const w: W = ctx.input;\n  return { v1: w.v1 - 10, v2: w.v2 + 10 };\n}\n';
  const tc = performance.now();
  for (let i = 0; i < 200; i++) compileScript(source);
  console.log(`compileScript (strip types + V8 module parse + default-export check): ${(((performance.now() - tc) / 200) * 1000).toFixed(0)} µs/script`);

  // Log calls past the cap must cost next to nothing.
  const flood = compileScript('export default async (ctx) => { for (let i = 0; i < 1_000_000; i++) ctx.log.info("x"); };');
  const quiet = compileScript('export default async (ctx) => { for (let i = 0; i < 1_000_000; i++) String("x"); };');
  const floodMs = await timeRun(flood);
  const quietMs = await timeRun(quiet);
  console.log(
    `log calls past the cap (1000 kept, 999000 dropped): ${(((floodMs - quietMs) / 1_000_000) * 1e6).toFixed(0)} ns/call over an empty loop (run ${floodMs.toFixed(0)} ms vs ${quietMs.toFixed(0)} ms)`,
  );
} finally {
  await Promise.all([sandbox.close(), reusing.close()]);
}
