/**
 * Isolate reuse across runs of one workflow version (IsolatedSandboxOptions.isolateReuse): each
 * test runs a planting run A and then a probing run B of the SAME code and version in the same
 * isolate (asserted through the pool's stats: a test where B got a fresh isolate proves nothing),
 * and checks that nothing of A is visible to B. What this suite cannot show — B can time how much
 * garbage A left and that the isolate is warm — is why reuse stays off by default (README).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createIsolatedSandbox, type IsolatedSandbox } from '../../engine/sandbox/isolated-host.ts';
import type { Capabilities, SandboxLimits, SandboxOutcome } from '../../engine/ports/sandbox-host.ts';
import { compileScript } from '../../engine/sandbox/compile.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { LIMITS, makeContext, makeScope, resultOf, type LogCall } from './fixtures.ts';

const REUSE = { maxRuns: 100, maxHeapMb: 48 };

interface RunOptions {
  input?: unknown;
  limits?: Partial<SandboxLimits>;
  capabilities?: Capabilities;
  logs?: LogCall[];
  version?: number;
}

/** One run; `reused` says whether it got an isolate that ran this version before. */
async function run(sandbox: IsolatedSandbox, code: string, o: RunOptions = {}): Promise<{ outcome: SandboxOutcome; reused: boolean }> {
  const before = sandbox.stats().reusedIsolates;
  const context = makeContext(o.input ?? null);
  context.workflow = { name: 'canary', version: o.version ?? 3 };
  const outcome = await sandbox.run({
    code,
    context,
    limits: { ...LIMITS, ...o.limits },
    capabilities: o.capabilities ?? {},
    scope: makeScope(o.logs),
  });
  return { outcome, reused: sandbox.stats().reusedIsolates > before };
}

/** Runs A (input { role: 'plant', secret }) then B (role 'probe') of `source`; B must have reused A's isolate. */
async function plantThenProbe(sandbox: IsolatedSandbox, source: string, o: Omit<RunOptions, 'input'> = {}) {
  const code = compileScript(source);
  const a = await run(sandbox, code, { ...o, input: { role: 'plant', secret: 'secret-of-A' } });
  resultOf(a.outcome);
  const probeLogs: LogCall[] = [];
  const b = await run(sandbox, code, { ...o, logs: probeLogs, input: { role: 'probe', secret: 'secret-of-B' } });
  assert.equal(b.reused, true, 'run B must have run in the isolate run A used');
  return { result: resultOf(b.outcome), logs: probeLogs };
}

describe('isolate reuse: nothing of one run is visible to the next', () => {
  let sandbox: IsolatedSandbox;
  let fresh: IsolatedSandbox;
  before(() => {
    // One process, one run at a time: consecutive runs meet the same idle isolate.
    sandbox = createIsolatedSandbox({ processes: 1, runsPerProcess: 1, logger: silentLogger(), isolateReuse: REUSE });
    fresh = createIsolatedSandbox({ processes: 1, runsPerProcess: 1, logger: silentLogger() });
  });
  after(async () => {
    await Promise.all([sandbox.close(), fresh.close()]);
  });

  it('globalThis: properties A set are gone, and B sees exactly what a fresh isolate sees', async () => {
    const source = `
      export default async (ctx) => {
        if (ctx.input.role === 'plant') {
          globalThis.leak = ctx.input.secret;
          Object.defineProperty(globalThis, 'hidden', { value: ctx.input.secret, enumerable: false });
          globalThis[Symbol.for('veer.leak')] = ctx.input.secret;
          delete globalThis.JSON;
          return 'planted';
        }
        return {
          names: Object.getOwnPropertyNames(globalThis).sort(),
          symbols: Object.getOwnPropertySymbols(globalThis).map(String),
          leak: typeof globalThis.leak, hidden: typeof globalThis.hidden,
          json: typeof JSON,
        };
      };`;
    const { result } = await plantThenProbe(sandbox, source);
    const code = compileScript(source);
    const baseline = resultOf((await run(fresh, code, { input: { role: 'probe' } })).outcome);
    assert.deepEqual(result, baseline);
    assert.equal((result as { leak: string }).leak, 'undefined');
  });

  it('builtin prototypes and statics A patched are pristine in B', async () => {
    const { result } = await plantThenProbe(
      sandbox,
      `
      const isNative = (f) => Function.prototype.toString.call(f).includes('[native code]');
      export default async (ctx) => {
        if (ctx.input.role === 'plant') {
          const s = ctx.input.secret;
          Array.prototype.push = function () { return s; };
          Array.prototype.leak = s;
          Object.prototype.leak = s;
          Object.defineProperty(Object.prototype, 'getterLeak', { get() { return s; }, configurable: true });
          Promise.prototype.then = function () { return s; };
          Promise.resolve = () => s;
          JSON.stringify = () => s;
          JSON.parse = () => s;
          String.prototype.trim = () => s;
          Function.prototype.toString = () => s;
          Math.random = () => 0.5;
          Date.now = () => 0;
          Error.prepareStackTrace = () => s;
          Error.stackTraceLimit = 0;
          Object.freeze(Object.prototype);
          return 'planted';
        }
        return {
          push: isNative(Array.prototype.push), then: isNative(Promise.prototype.then), resolve: isNative(Promise.resolve),
          stringify: isNative(JSON.stringify), parse: isNative(JSON.parse), trim: isNative(String.prototype.trim),
          toString: isNative(Function.prototype.toString), random: isNative(Math.random), now: isNative(Date.now),
          arrayLeak: [].leak, objectLeak: ({}).leak, getterLeak: ({}).getterLeak,
          prepare: typeof Error.prepareStackTrace, limit: Error.stackTraceLimit,
          frozen: Object.isFrozen(Object.prototype),
          stack: new Error('probe').stack.split('\\n')[0],
        };
      };`,
    );
    assert.deepEqual(result, {
      push: true,
      then: true,
      resolve: true,
      stringify: true,
      parse: true,
      trim: true,
      toString: true,
      random: true,
      now: true,
      prepare: 'undefined',
      limit: 10,
      frozen: false,
      stack: 'Error: probe',
    });
  });

  it('module scope: a closure A filled starts empty in B (the module is evaluated anew)', async () => {
    const { result } = await plantThenProbe(
      sandbox,
      `
      const seen = [];
      let calls = 0;
      export default async (ctx) => { calls++; seen.push(ctx.input.secret); return { seen, calls }; };`,
    );
    assert.deepEqual(result, { seen: ['secret-of-B'], calls: 1 });
  });

  it('what A left pending (sleeps, host calls, microtask chains) never runs in B or reaches its log', async () => {
    let slowCalls = 0;
    const capabilities: Capabilities = {
      slow: {
        get: async () => {
          slowCalls++;
          await new Promise((resolve) => setTimeout(resolve, 100));
          return 'late';
        },
      },
    };
    const { result, logs } = await plantThenProbe(
      sandbox,
      `
      export default async (ctx) => {
        if (ctx.input.role === 'plant') {
          const s = ctx.input.secret;
          ctx.sleep(50).then(() => { globalThis.late = s; ctx.log.info('A after sleep ' + s); });
          ctx.slow.get().then(() => { globalThis.late = s; ctx.log.info('A after host call ' + s); });
          (async () => { for (let i = 0; i < 1000; i++) await null; globalThis.chain = s; })();
          new Promise(() => {}).then(() => ctx.log.info('never'));
          return 'planted';
        }
        await ctx.sleep(300);
        const r = await ctx.slow.get();
        ctx.log.info('B done');
        return { late: typeof globalThis.late, chain: typeof globalThis.chain, r };
      };`,
      { capabilities },
    );
    assert.deepEqual(result, { late: 'undefined', chain: 'undefined', r: 'late' });
    assert.deepEqual(
      logs.map((l) => l.message),
      ['B done'],
    );
    assert.equal(slowCalls, 2);
  });

  it('WeakRef targets, FinalizationRegistry, SharedArrayBuffer/Atomics and heap statistics are out of reach', async () => {
    const { result } = await plantThenProbe(
      sandbox,
      `
      export default async (ctx) => {
        if (ctx.input.role === 'plant') {
          globalThis.ref = new WeakRef({ secret: ctx.input.secret });
          return typeof FinalizationRegistry;
        }
        return {
          ref: typeof globalThis.ref, fr: typeof FinalizationRegistry, sab: typeof SharedArrayBuffer, atomics: typeof Atomics,
          wasm: typeof WebAssembly, performance: typeof performance, gc: typeof gc, process: typeof process,
        };
      };`,
    );
    assert.deepEqual(result, {
      ref: 'undefined',
      fr: 'undefined',
      sab: 'undefined',
      atomics: 'undefined',
      wasm: 'undefined',
      performance: 'undefined',
      gc: 'undefined',
      process: 'undefined',
    });
  });

  it("errors in B carry B's stack only", async () => {
    const { result } = await plantThenProbe(
      sandbox,
      `
      export default async (ctx) => {
        const named = { [ctx.input.secret]: () => new Error('inner') };
        const err = named[ctx.input.secret]();
        if (ctx.input.role === 'plant') { Error.captureStackTrace = () => {}; globalThis.kept = err; return 'planted'; }
        return { stack: err.stack, hasA: err.stack.includes('secret-of-A'), hasB: err.stack.includes('secret-of-B') };
      };`,
    );
    assert.equal((result as { hasA: boolean }).hasA, false);
    assert.equal((result as { hasB: boolean }).hasB, true);
  });

  it('memory: what A kept is not counted against B (B can allocate nearly the whole limit again)', async () => {
    // A keeps ~24 MB of heap and 24 MB of ArrayBuffer alive in its globals; B then takes ~40 MB
    // of each kind against a 64 MB limit: only possible if A's memory is gone.
    const { result } = await plantThenProbe(
      sandbox,
      `
      export default async (ctx) => {
        const n = ctx.input.role === 'plant' ? 24 : 40;
        const buf = new ArrayBuffer(n * 1024 * 1024);
        new Uint8Array(buf).fill(1);
        const big = [];
        for (let i = 0; i < n * 16; i++) big.push('x'.repeat(64 * 1024 - 32) + i);
        if (ctx.input.role === 'plant') { globalThis.keep = [buf, big]; return 'planted'; }
        return big.length;
      };`,
      { limits: { memoryMb: 96 } },
    );
    assert.equal(result, 640);
  });

  it('CPU is counted per run: two runs that each use most of cpuMs both succeed in one isolate', async () => {
    const { result } = await plantThenProbe(
      sandbox,
      `
      export default async () => { const end = Date.now() + 250; let n = 0; while (Date.now() < end) n++; return n > 0; };`,
      { limits: { cpuMs: 400 } },
    );
    assert.equal(result, true);
  });
});

describe('isolate reuse: when an isolate is not reused', () => {
  let sandbox: IsolatedSandbox;
  before(() => {
    sandbox = createIsolatedSandbox({ processes: 1, runsPerProcess: 1, logger: silentLogger(), isolateReuse: { maxRuns: 3, maxHeapMb: 16 } });
  });
  after(() => sandbox.close());

  const ok = compileScript(
    'export default async (ctx) => { if (ctx.input === "throw") throw new Error("no"); if (ctx.input === "spin") for (;;) {} if (ctx.input === "grow") { globalThis.g = new ArrayBuffer(20 * 1024 * 1024); } return 1; };',
  );

  it('after an error, a CPU limit or a heap above maxHeapMb the next run gets a fresh isolate', async () => {
    await run(sandbox, ok);
    assert.equal((await run(sandbox, ok)).reused, true);
    assert.equal((await run(sandbox, ok, { input: 'throw' })).outcome.status, 'failed');
    assert.equal((await run(sandbox, ok)).reused, false);
    const spin = await run(sandbox, ok, { input: 'spin', limits: { cpuMs: 100 } });
    assert.equal(spin.outcome.status, 'timed_out');
    assert.equal((await run(sandbox, ok)).reused, false);
    assert.equal(resultOf((await run(sandbox, ok, { input: 'grow' })).outcome), 1);
    assert.equal((await run(sandbox, ok)).reused, false);
  });

  it(`after maxRuns runs, and never across versions or memory limits`, async () => {
    const code = compileScript('export default async () => 2;');
    const reused = [];
    for (let i = 0; i < 4; i++) reused.push((await run(sandbox, code)).reused);
    assert.deepEqual(reused, [false, true, true, false]);
    assert.equal((await run(sandbox, code, { version: 4 })).reused, false);
    assert.equal((await run(sandbox, code, { version: 4, limits: { memoryMb: 32 } })).reused, false);
  });

  it('is off by default', async () => {
    const plain = createIsolatedSandbox({ processes: 1, runsPerProcess: 1, logger: silentLogger() });
    try {
      const code = compileScript('export default async () => 3;');
      for (let i = 0; i < 3; i++) assert.equal((await run(plain, code)).reused, false);
    } finally {
      await plain.close();
    }
  });
});
