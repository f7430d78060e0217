/**
 * Sandbox cost next to bare isolated-vm in the same run:
 *  - baseline: in-process `new ivm.Isolate` + context + eval + dispose (no child process, no bridge)
 *  - sandbox: trivial runs through createIsolatedSandbox (child processes, fresh isolate per run,
 *    bridge, IPC), one at a time and with several in flight; p50/p99 per run
 *  - host call round trip (isolate → child → engine → child → isolate), compileScript, and the
 *    cost of a log call past the cap
 * Bounded to well under a minute; `BENCH_RUNS` scales the run counts.
 */
import ivm from 'isolated-vm';
import { compileScript } from '../../engine/sandbox/compile.ts';
import { createIsolatedSandbox } from '../../engine/sandbox/isolated-host.ts';
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
  await sandbox.close();
}
