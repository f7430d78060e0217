/**
 * Spare isolates (engine/sandbox/spare-isolate.ts): each sandbox child makes the next run's
 * fresh isolate, context and bridge ahead of time. Every test checks through the pool's stats
 * that the run it is about actually got a spare (a run that made its own isolate proves
 * nothing), then that the spare behaves exactly like an isolate made for the run: never shared
 * between runs, nothing of the engine's set-up or an earlier run visible, every limit enforced.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createIsolatedSandbox, type IsolatedSandbox } from '../../engine/sandbox/isolated-host.ts';
import type { Capabilities, SandboxLimits, SandboxOutcome } from '../../engine/ports/sandbox-host.ts';
import { compileScript } from '../../engine/sandbox/compile.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { LIMITS, makeContext, makeScope, resultOf } from './fixtures.ts';

interface RunOptions {
  input?: unknown;
  limits?: Partial<SandboxLimits>;
  capabilities?: Capabilities;
}

/** One run; `spare` says whether it got an isolate its child made before the run. */
async function run(sandbox: IsolatedSandbox, source: string, o: RunOptions = {}): Promise<{ outcome: SandboxOutcome; spare: boolean }> {
  const before = sandbox.stats().spareIsolates;
  const outcome = await sandbox.run({
    code: compileScript(source),
    context: makeContext(o.input ?? null),
    limits: { ...LIMITS, ...o.limits },
    capabilities: o.capabilities ?? {},
    scope: makeScope(),
  });
  return { outcome, spare: sandbox.stats().spareIsolates > before };
}

/**
 * A run that got a spare. The child makes its spare in the turn after a run ends, so on a
 * loaded machine the next run can arrive first and get an isolate of its own; it is then run
 * again (every run here is repeatable) until one lands on a spare, 20 tries at most.
 */
async function onSpare(sandbox: IsolatedSandbox, source: string, o: RunOptions = {}): Promise<{ outcome: SandboxOutcome; spare: boolean }> {
  let last = await run(sandbox, source, o);
  for (let i = 1; i < 20 && !last.spare; i++) last = await run(sandbox, source, o);
  return last;
}

function errorOf(outcome: SandboxOutcome, status: SandboxOutcome['status']) {
  if (outcome.status === 'succeeded') assert.fail(`expected ${status}, got ${JSON.stringify(outcome)}`);
  assert.equal(outcome.status, status, JSON.stringify(outcome));
  return outcome.error;
}

/** What a run can see of its realm: globals (engine ones included), builtins, stack settings. */
const ENVIRONMENT = `
  const isNative = (f) => Function.prototype.toString.call(f).includes('[native code]');
  export default async (ctx) => {
    const plant = ctx.input?.plant;
    const seen = {
      names: Object.getOwnPropertyNames(globalThis).sort(),
      symbols: Object.getOwnPropertySymbols(globalThis).map(String),
      leak: typeof globalThis.leak,
      protoLeak: ({}).leak,
      push: isNative(Array.prototype.push),
      limit: Error.stackTraceLimit,
      prepare: typeof Error.prepareStackTrace,
      stack: new Error('probe').stack.split('\\n').length,
    };
    if (plant) {
      globalThis.leak = plant;
      Object.prototype.leak = plant;
      Array.prototype.push = () => plant;
      Error.stackTraceLimit = 0;
    }
    return seen;
  };`;

describe('spare isolates: made before the run, fresh for it, never shared', () => {
  let sandbox: IsolatedSandbox;
  before(() => {
    // One process, one run at a time: each run meets the spare its predecessor's end left.
    sandbox = createIsolatedSandbox({ processes: 1, runsPerProcess: 1, logger: silentLogger() });
  });
  after(() => sandbox.close());

  it('a run on a spare sees exactly what a run in an isolate made for it sees, and nothing of earlier runs', async () => {
    // A limit no spare was made for: this run makes its own isolate, as without spares.
    const own = await run(sandbox, ENVIRONMENT, { limits: { memoryMb: 40 } });
    assert.equal(own.spare, false, 'the baseline must not run on a spare');
    const baseline = resultOf(own.outcome);

    const planting = await run(sandbox, ENVIRONMENT, { input: { plant: 'secret-of-A' } });
    resultOf(planting.outcome);
    const probe = await onSpare(sandbox, ENVIRONMENT);
    assert.equal(probe.spare, true, 'the probing run must have got a spare');
    assert.deepEqual(resultOf(probe.outcome), baseline);
    assert.equal((baseline as { leak: string }).leak, 'undefined');
    // The hook the engine's helper modules use is gone before the user's module runs.
    assert.ok(!(baseline as { names: string[] }).names.some((n) => n.startsWith('__veer')));
  });

  it('a run whose memory limit differs from the spare makes its own isolate, and the next spare follows it', async () => {
    await run(sandbox, 'export default async () => 1;');
    const other = await run(sandbox, 'export default async () => 2;', { limits: { memoryMb: 24 } });
    assert.equal(resultOf(other.outcome), 2);
    assert.equal(other.spare, false);
    const next = await onSpare(sandbox, 'export default async () => 3;', { limits: { memoryMb: 24 } });
    assert.equal(resultOf(next.outcome), 3);
    assert.equal(next.spare, true);
  });

  it('the memory limit holds on a spare, and the spare after it is fresh', async () => {
    await run(sandbox, 'export default async () => 1;', { limits: { memoryMb: 16 } });
    const hog = await onSpare(
      sandbox,
      `export default async () => {
        const keep = [];
        for (;;) keep.push({ n: Math.random(), s: 'x'.repeat(64) + Math.random() });
      }`,
      { limits: { memoryMb: 16, cpuMs: 30_000, timeoutMs: 30_000 } },
    );
    assert.equal(hog.spare, true);
    assert.equal(errorOf(hog.outcome, 'failed').code, 'SANDBOX.MEMORY_LIMIT');
    const after = await onSpare(sandbox, 'export default async () => globalThis.keep === undefined;', { limits: { memoryMb: 16 } });
    assert.equal(after.spare, true);
    assert.equal(resultOf(after.outcome), true);
  });

  it('the CPU limit and the wall-clock deadline hold on a spare', async () => {
    await run(sandbox, 'export default async () => 1;');
    const spin = await onSpare(sandbox, 'export default async () => { for (;;) {} }', { limits: { cpuMs: 200, timeoutMs: 10_000 } });
    assert.equal(spin.spare, true);
    const cpu = errorOf(spin.outcome, 'timed_out');
    assert.equal(cpu.code, 'SANDBOX.CPU_LIMIT');
    assert.match(cpu.message, /200 ms of CPU time/);

    const sleeper = await onSpare(sandbox, 'export default async (ctx) => { await ctx.sleep(60_000); return "woke"; }', { limits: { timeoutMs: 300 } });
    assert.equal(sleeper.spare, true);
    assert.equal(errorOf(sleeper.outcome, 'timed_out').code, 'SANDBOX.TIMEOUT');

    const stuck = await onSpare(sandbox, 'export default async (ctx) => { await ctx.slow.forever(); return "finished"; }', {
      limits: { timeoutMs: 300 },
      capabilities: { slow: { forever: () => new Promise(() => {}) } },
    });
    assert.equal(stuck.spare, true);
    assert.equal(errorOf(stuck.outcome, 'timed_out').code, 'SANDBOX.TIMEOUT');
  });
});

describe('spare isolates with several runs per process', () => {
  let sandbox: IsolatedSandbox;
  before(() => {
    sandbox = createIsolatedSandbox({ processes: 1, runsPerProcess: 4, logger: silentLogger() });
  });
  after(() => sandbox.close());

  it('no two runs in flight ever share an isolate or a context', async () => {
    const source = `export default async (ctx) => {
      const seen = globalThis.mark;
      globalThis.mark = ctx.input;
      await ctx.sleep(2);
      return { seen: seen === undefined ? null : seen, still: globalThis.mark };
    };`;
    const before = sandbox.stats().spareIsolates;
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => run(sandbox, source, { input: i })));
    outcomes.forEach(({ outcome }, i) => assert.deepEqual(resultOf(outcome), { seen: null, still: i }, `run ${i}`));
    assert.ok(sandbox.stats().spareIsolates > before, 'some of the runs must have got spares');
  });
});
