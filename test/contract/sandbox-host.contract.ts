import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SandboxHost, SandboxLimits, SandboxOutcome, SandboxRequest } from '../../engine/ports/sandbox-host.ts';
import type { Capabilities, RunScope } from '../../engine/sandbox/capabilities.ts';
import type { LogLevel } from '../../engine/domain/run.ts';
import { compileScript } from '../../engine/sandbox/compile.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * The SandboxHost contract (engine/ports/sandbox-host.ts), run against every implementation:
 * what the engine relies on whichever host runs a script. Every outcome is data (the run
 * promise never rejects), limits end a run with a stable error code, cancellation and
 * `close()` end runs as cancelled, capabilities and logs cross the boundary as copies.
 * Limits are small so the suite stays fast; implementation details (process pools, crashes
 * of a child, SIGKILL after a grace period) belong to the implementation's own tests.
 */
export interface SandboxHostHarness {
  /** A fresh host. The suite closes every host it creates. */
  create(): Promise<SandboxHost>;
  /** Stops whatever `create` needed; called once after all tests. Optional. */
  teardown?(): Promise<void>;
}

interface LogCall {
  level: LogLevel;
  message: string;
  fields?: Record<string, unknown>;
}

const LIMITS: SandboxLimits = { timeoutMs: 5000, memoryMb: 64, cpuMs: 3000, maxResultBytes: 64 * 1024 };

interface RunOptions {
  input?: unknown;
  limits?: Partial<SandboxLimits>;
  capabilities?: Capabilities;
  logs?: LogCall[];
  signal?: AbortSignal;
}

function request(source: string, o: RunOptions = {}): SandboxRequest {
  const logs = o.logs ?? [];
  const scope: RunScope = {
    runId: 'run-contract',
    attempt: 1,
    workflow: { name: 'contract', version: 2, permissions: { gateways: [], deployments: {} } },
    log: (level, message, fields) => void logs.push(fields === undefined ? { level, message } : { level, message, fields }),
    signal: new AbortController().signal,
    deadline: Date.now() + 60_000,
  };
  return {
    code: compileScript(source),
    context: {
      input: o.input ?? null,
      env: { REGION: 'eu-west-1' },
      workflow: { name: 'contract', version: 2 },
      run: { id: 'run-contract', attempt: 1, trigger: { type: 'manual' } },
    },
    limits: { ...LIMITS, ...o.limits },
    capabilities: o.capabilities ?? {},
    scope,
  };
}

function resultOf(outcome: SandboxOutcome): unknown {
  if (outcome.status !== 'succeeded') assert.fail(`expected success, got ${JSON.stringify(outcome)}`);
  return outcome.result;
}

function errorOf(outcome: SandboxOutcome, status: 'failed' | 'timed_out' | 'cancelled') {
  if (outcome.status === 'succeeded') assert.fail(`expected ${status}, got ${JSON.stringify(outcome)}`);
  assert.equal(outcome.status, status, JSON.stringify(outcome));
  return outcome.error;
}

export function runSandboxHostContract(name: string, harness: () => Promise<SandboxHostHarness>): void {
  describe(`SandboxHost contract: ${name}`, () => {
    let h: SandboxHostHarness;
    let host: SandboxHost;
    const hosts: SandboxHost[] = [];
    const fresh = async () => {
      const s = await h.create();
      hosts.push(s);
      return s;
    };
    const run = (source: string, o: RunOptions = {}) => host.run(request(source, o), o.signal);

    before(async () => {
      h = await harness();
      host = await fresh();
    });
    after(async () => {
      for (const s of hosts) await s.close();
      await h?.teardown?.();
    });

    it("succeeds with the default export's result as a JSON copy (undefined is null)", async () => {
      const outcome = await run('export default async () => ({ n: 1, list: [1, undefined], nested: { fn() {} }, when: new Date(0) });');
      assert.deepEqual(resultOf(outcome), { n: 1, list: [1, null], nested: {}, when: '1970-01-01T00:00:00.000Z' });
      assert.equal(resultOf(await run('export default async () => {};')), null);
    });

    it('gives the script copies of input, env, workflow and run', async () => {
      const input = { steps: [10, 50] };
      const outcome = await run('export default async (ctx) => { ctx.input.steps.push(100); return [ctx.input, ctx.env, ctx.workflow, ctx.run]; };', { input });
      assert.deepEqual(resultOf(outcome), [
        { steps: [10, 50, 100] },
        { REGION: 'eu-west-1' },
        { name: 'contract', version: 2 },
        { id: 'run-contract', attempt: 1, trigger: { type: 'manual' } },
      ]);
      assert.deepEqual(input.steps, [10, 50], "the caller's input is not shared with the script");
    });

    it('fails a thrown error as SCRIPT.ERROR at the line and column of the source', async () => {
      const source = [
        'type Input = { n: number };',
        'export default async (ctx: { input: Input }) => {',
        "  throw new RangeError('bad ' + ctx.input.n);",
        '};',
      ].join('\n');
      const error = errorOf(await run(source, { input: { n: 7 } }), 'failed');
      assert.equal(error.code, 'SCRIPT.ERROR');
      assert.equal(error.message, 'RangeError: bad 7');
      assert.deepEqual([error.line, error.column], [3, 9]);
    });

    it('fails a module without a callable default export as SCRIPT.INVALID', async () => {
      const error = errorOf(await run('export default 42;'), 'failed');
      assert.equal(error.code, 'SCRIPT.INVALID');
    });

    it('times out at limits.timeoutMs whatever the script awaits (its own promise, a host call)', async () => {
      const [own, hostCall] = await Promise.all([
        run('export default async () => { await new Promise(() => {}); };', { limits: { timeoutMs: 300 } }),
        run('export default async (ctx) => { await ctx.slow.forever(); };', {
          limits: { timeoutMs: 300 },
          capabilities: { slow: { forever: () => new Promise(() => {}) } },
        }),
      ]);
      for (const outcome of [own, hostCall]) {
        const error = errorOf(outcome, 'timed_out');
        assert.equal(error.code, 'SANDBOX.TIMEOUT');
        assert.match(error.message, /300 ms/);
      }
    });

    it('stops a busy loop at limits.cpuMs (timed_out, SANDBOX.CPU_LIMIT)', async () => {
      const error = errorOf(await run('export default async () => { for (;;) {} };', { limits: { cpuMs: 200, timeoutMs: 10_000 } }), 'timed_out');
      assert.equal(error.code, 'SANDBOX.CPU_LIMIT');
    });

    it('fails a script that grows past limits.memoryMb (SANDBOX.MEMORY_LIMIT)', async () => {
      const source = "export default async () => { const keep = []; for (;;) keep.push({ n: Math.random(), s: 'x'.repeat(64) + Math.random() }); };";
      const error = errorOf(await run(source, { limits: { memoryMb: 16, cpuMs: 30_000, timeoutMs: 30_000 } }), 'failed');
      assert.equal(error.code, 'SANDBOX.MEMORY_LIMIT');
      assert.match(error.message, /16 MB/);
    });

    it('fails a result larger than limits.maxResultBytes (SANDBOX.RESULT_TOO_LARGE); exactly the limit passes', async () => {
      const error = errorOf(
        await run('export default async () => Array.from({ length: 400 }, (_, i) => ({ i }));', { limits: { maxResultBytes: 1000 } }),
        'failed',
      );
      assert.equal(error.code, 'SANDBOX.RESULT_TOO_LARGE');
      assert.match(error.message, /1000 bytes/);
      // Bytes of JSON, not characters: "é" is two bytes, plus two quotes.
      assert.equal(resultOf(await run('export default async () => "é".repeat(499);', { limits: { maxResultBytes: 1000 } })), 'é'.repeat(499));
    });

    it('ends a run as cancelled when its signal aborts, running or before it starts', async () => {
      const controller = new AbortController();
      const logs: LogCall[] = [];
      const running = run('export default async (ctx) => { ctx.log.info("started"); await ctx.sleep(30_000); };', {
        logs,
        signal: controller.signal,
        limits: { timeoutMs: 60_000 },
      });
      await waitFor(() => logs.some((l) => l.message === 'started'), { what: 'the script to start' });
      controller.abort();
      assert.equal(errorOf(await running, 'cancelled').code, 'SANDBOX.CANCELLED');
      const early = new AbortController();
      early.abort();
      assert.equal(errorOf(await run('export default async () => 1;', { signal: early.signal }), 'cancelled').code, 'SANDBOX.CANCELLED');
    });

    it('calls capabilities with the run scope and copies; a host error is an Error with its message and code', async () => {
      const calls: unknown[] = [];
      const stored = { v1: 90 };
      const outcome = await run(
        `
        export default async (ctx) => {
          const got = await ctx.state.get('weights');
          got.v1 = 0;
          await ctx.state.set('seen', { got });
          try {
            await ctx.state.fail();
          } catch (e) {
            return { got, again: await ctx.state.get('weights'), error: [e instanceof Error, e.message, e.code] };
          }
        };`,
        {
          capabilities: {
            state: {
              get: async (scope, key) => (calls.push(['get', scope.runId, key]), stored),
              set: async (scope, key, value) => void calls.push(['set', scope.runId, key, value]),
              fail: async () => {
                throw Object.assign(new Error('no such gateway'), { code: 'NOT_FOUND' });
              },
            },
          },
        },
      );
      assert.deepEqual(resultOf(outcome), { got: { v1: 0 }, again: { v1: 90 }, error: [true, 'no such gateway', 'NOT_FOUND'] });
      // Arguments arrive as null-prototype plain data: compare values, not prototypes.
      assert.deepEqual(JSON.parse(JSON.stringify(calls)), [
        ['get', 'run-contract', 'weights'],
        ['set', 'run-contract', 'seen', { got: { v1: 0 } }],
        ['get', 'run-contract', 'weights'],
      ]);
      assert.deepEqual(stored, { v1: 90 }, 'the host value is not shared with the script');
      const uncaught = errorOf(
        await run('export default async (ctx) => { await ctx.state.fail(); };', {
          capabilities: {
            state: {
              fail: async () => {
                throw new Error('store down');
              },
            },
          },
        }),
        'failed',
      );
      assert.equal(uncaught.code, 'SCRIPT.ERROR');
      assert.match(uncaught.message, /store down/);
    });

    it('sends ctx.log and console entries to the run log in order, capped at limits.maxLogEntries with one final warn', async () => {
      const logs: LogCall[] = [];
      resultOf(
        await run(
          `
        export default async (ctx) => {
          ctx.log.info('shifting', { weight: 10 });
          ctx.log.warn('careful');
          console.log('console', 1);
        };`,
          { logs },
        ),
      );
      assert.deepEqual(logs, [
        { level: 'info', message: 'shifting', fields: { weight: 10 } },
        { level: 'warn', message: 'careful' },
        { level: 'info', message: 'console 1' },
      ]);
      const capped: LogCall[] = [];
      resultOf(
        await run("export default async (ctx) => { for (let i = 0; i < 100; i++) ctx.log.info('line ' + i); };", {
          logs: capped,
          limits: { maxLogEntries: 5 },
        }),
      );
      assert.equal(capped.length, 6);
      assert.deepEqual(capped[4], { level: 'info', message: 'line 4' });
      assert.equal(capped[5].level, 'warn');
      assert.match(capped[5].message, /95/);
    });

    it('runs scripts concurrently, each with its own globals', async () => {
      const outcomes = await Promise.all(
        [1, 2, 3, 4].map((n) =>
          run('globalThis.seen = (globalThis.seen ?? 0) + 1;\nexport default async (ctx) => { await ctx.sleep(5); return [ctx.input, globalThis.seen]; };', {
            input: n,
          }),
        ),
      );
      assert.deepEqual(outcomes.map(resultOf), [
        [1, 1],
        [2, 1],
        [3, 1],
        [4, 1],
      ]);
    });

    it('close() ends runs in flight as cancelled, and later runs are cancelled without running', async () => {
      const own = await fresh();
      const logs: LogCall[] = [];
      const inFlight = own.run(
        request('export default async (ctx) => { ctx.log.info("up"); await ctx.sleep(60_000); };', { logs, limits: { timeoutMs: 60_000 } }),
      );
      await waitFor(() => logs.length > 0, { what: 'the script to start' });
      await own.close();
      assert.equal((await inFlight).status, 'cancelled');
      const ran: string[] = [];
      const later = await own.run(
        request('export default async (ctx) => { await ctx.mark.ran(); };', { capabilities: { mark: { ran: async () => void ran.push('ran') } } }),
      );
      assert.equal(later.status, 'cancelled');
      assert.deepEqual(ran, []);
    });
  });
}
