import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createIsolatedSandbox } from '../../engine/sandbox/isolated-host.ts';
import type { SandboxHost, SandboxOutcome } from '../../engine/ports/sandbox-host.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { resultOf, runScript, type LogCall } from './fixtures.ts';

function errorOf(outcome: SandboxOutcome, status: 'failed' | 'timed_out' | 'cancelled') {
  if (outcome.status === 'succeeded') assert.fail(`expected ${status}, got ${JSON.stringify(outcome)}`);
  assert.equal(outcome.status, status, JSON.stringify(outcome));
  return outcome.error;
}

describe('isolated sandbox: limits, crashes, cancellation', () => {
  let sandbox: SandboxHost;
  before(() => {
    sandbox = createIsolatedSandbox({ processes: 2, runsPerProcess: 2, logger: silentLogger(), abortGraceMs: 1000 });
  });
  after(() => sandbox.close());

  it('stops an infinite loop at the CPU limit (timed_out, SANDBOX.CPU_LIMIT)', async () => {
    const outcome = await runScript(sandbox, 'export default async () => { for (;;) {} }', { limits: { cpuMs: 200, timeoutMs: 10_000 } });
    const error = errorOf(outcome, 'timed_out');
    assert.equal(error.code, 'SANDBOX.CPU_LIMIT');
    assert.match(error.message, /200 ms of CPU time/);
  });

  it('stops a loop that starts after an await, and one at module load', async () => {
    const later = await runScript(sandbox, 'export default async (ctx) => { await ctx.sleep(1); while (true) {} }', {
      limits: { cpuMs: 200, timeoutMs: 10_000 },
    });
    assert.equal(errorOf(later, 'timed_out').code, 'SANDBOX.CPU_LIMIT');
    const atLoad = await runScript(sandbox, 'while (true) {}\nexport default async () => 1;', { limits: { cpuMs: 200, timeoutMs: 10_000 } });
    assert.equal(errorOf(atLoad, 'timed_out').code, 'SANDBOX.CPU_LIMIT');
  });

  it('disposes the isolate at the wall-clock deadline while the script awaits a host call that never settles', async () => {
    const outcome = await runScript(sandbox, 'export default async (ctx) => { await ctx.slow.forever(); return "finished"; }', {
      limits: { timeoutMs: 300 },
      capabilities: { slow: { forever: () => new Promise(() => {}) } },
    });
    const error = errorOf(outcome, 'timed_out');
    assert.equal(error.code, 'SANDBOX.TIMEOUT');
    assert.match(error.message, /300 ms/);
  });

  it('times out a script awaiting a promise of its own that never settles', async () => {
    const outcome = await runScript(sandbox, 'export default async () => { await new Promise(() => {}); }', { limits: { timeoutMs: 300 } });
    assert.equal(errorOf(outcome, 'timed_out').code, 'SANDBOX.TIMEOUT');
  });

  it('times out ctx.sleep past the deadline', async () => {
    const outcome = await runScript(sandbox, 'export default async (ctx) => { await ctx.sleep(60_000); return "woke"; }', { limits: { timeoutMs: 300 } });
    assert.equal(errorOf(outcome, 'timed_out').code, 'SANDBOX.TIMEOUT');
  });

  it('fails a script that grows past its memory limit (SANDBOX.MEMORY_LIMIT)', async () => {
    const outcome = await runScript(
      sandbox,
      `
      export default async () => {
        const keep = [];
        for (;;) keep.push({ n: Math.random(), s: 'x'.repeat(64) + Math.random() });
      }`,
      { limits: { memoryMb: 16, cpuMs: 30_000, timeoutMs: 30_000 } },
    );
    const error = errorOf(outcome, 'failed');
    assert.equal(error.code, 'SANDBOX.MEMORY_LIMIT');
    assert.match(error.message, /16 MB/);
  });

  it('fails a process-aborting allocation as SANDBOX.CRASHED, and the pool keeps running scripts', async () => {
    const outcome = await runScript(sandbox, 'export default async () => { new Array(1e9).fill(0); return "survived"; }', {
      limits: { memoryMb: 64, cpuMs: 60_000, timeoutMs: 60_000 },
    });
    const error = errorOf(outcome, 'failed');
    assert.equal(error.code, 'SANDBOX.CRASHED');
    assert.match(error.message, /sandbox process .*(SIGABRT|SIGKILL|SIGTRAP|SIGSEGV|exited with code)/);
    const next = await Promise.all([1, 2, 3, 4].map((n) => runScript(sandbox, 'export default async (ctx) => ctx.input * 2;', { input: n })));
    assert.deepEqual(next.map(resultOf), [2, 4, 6, 8]);
  });

  it('a script cannot end its own process: exit/abort do not exist, stack overflow is an ordinary error', async () => {
    const exit = await runScript(sandbox, 'export default async () => { process.exit(1); }');
    assert.match(errorOf(exit, 'failed').message, /ReferenceError: process is not defined/);
    const overflow = await runScript(sandbox, 'const f = (n) => f(n + 1) + 1;\nexport default async () => f(0);');
    const error = errorOf(overflow, 'failed');
    assert.equal(error.code, 'SCRIPT.ERROR');
    assert.match(error.message, /Maximum call stack size exceeded/);
    assert.equal(resultOf(await runScript(sandbox, 'export default async () => "still here";')), 'still here');
  });

  it('caps log entries, then reports how many were dropped in one final warn entry', async () => {
    const logs: LogCall[] = [];
    const outcome = await runScript(
      sandbox,
      `
      export default async (ctx) => {
        for (let i = 0; i < 100000; i++) ctx.log.info('line ' + i);
        console.log('after the flood');
        return 'flooded';
      }`,
      { logs, limits: { maxLogEntries: 50 } },
    );
    assert.equal(resultOf(outcome), 'flooded');
    assert.equal(logs.length, 51);
    assert.deepEqual(logs[49], { level: 'info', message: 'line 49' });
    assert.deepEqual(logs[50], { level: 'warn', message: 'log limit of 50 entries reached: 99951 further entries were dropped' });
  });

  it('truncates a very long log message and says so', async () => {
    const logs: LogCall[] = [];
    resultOf(await runScript(sandbox, 'export default async (ctx) => { ctx.log.warn("y".repeat(100000)); }', { logs }));
    assert.equal(logs.length, 1);
    assert.ok(logs[0].message.startsWith('y'.repeat(8192) + ' … [message truncated: 100000 characters, limit 8192]'));
    assert.ok(logs[0].message.length < 8300);
  });

  it('fails a 100 MB result as SANDBOX.RESULT_TOO_LARGE, naming the size and the limit', async () => {
    const outcome = await runScript(sandbox, 'export default async () => "x".repeat(100 * 1024 * 1024);', {
      limits: { memoryMb: 512, maxResultBytes: 1024 * 1024 },
    });
    const error = errorOf(outcome, 'failed');
    assert.equal(error.code, 'SANDBOX.RESULT_TOO_LARGE');
    assert.match(error.message, /at least 104857602 bytes of JSON, more than the limit of 1048576 bytes/);
  });

  it('measures the exact size of a result made of many small values', async () => {
    const outcome = await runScript(sandbox, 'export default async () => Array.from({ length: 400 }, (_, i) => ({ i }));', {
      limits: { maxResultBytes: 1000 },
    });
    const error = errorOf(outcome, 'failed');
    assert.equal(error.code, 'SANDBOX.RESULT_TOO_LARGE');
    assert.match(error.message, /\d+ bytes of JSON, more than the limit of 1000 bytes/);
    // A result of exactly the limit passes (bytes, not characters: é is two).
    assert.equal(resultOf(await runScript(sandbox, 'export default async () => "é".repeat(499);', { limits: { maxResultBytes: 1000 } })), 'é'.repeat(499));
  });

  it('cancels a running script through the AbortSignal', async () => {
    const controller = new AbortController();
    const logs: LogCall[] = [];
    const running = runScript(sandbox, 'export default async (ctx) => { ctx.log.info("started"); await ctx.sleep(30_000); }', {
      logs,
      signal: controller.signal,
      limits: { timeoutMs: 60_000 },
    });
    await waitFor(() => logs.some((l) => l.message === 'started'), { what: 'the script to start' });
    controller.abort();
    const error = errorOf(await running, 'cancelled');
    assert.equal(error.code, 'SANDBOX.CANCELLED');
  });

  it('cancels a busy-looping script, and one whose signal was aborted before it started', async () => {
    const controller = new AbortController();
    const logs: LogCall[] = [];
    const running = runScript(sandbox, 'export default async (ctx) => { ctx.log.info("looping"); for (;;) {} }', {
      logs,
      signal: controller.signal,
      limits: { timeoutMs: 60_000, cpuMs: 60_000 },
    });
    await waitFor(() => logs.length > 0, { what: 'the script to start looping' });
    controller.abort();
    assert.equal(errorOf(await running, 'cancelled').code, 'SANDBOX.CANCELLED');

    const early = new AbortController();
    early.abort();
    assert.equal(errorOf(await runScript(sandbox, 'export default async () => 1;', { signal: early.signal }), 'cancelled').code, 'SANDBOX.CANCELLED');
  });
});

describe('isolated sandbox: queueing and shutdown', () => {
  it('queues runs beyond processes × runsPerProcess and ends runs in flight as cancelled on close', async () => {
    const sandbox = createIsolatedSandbox({ processes: 1, runsPerProcess: 1, logger: silentLogger() });
    const started: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const capabilities = {
      gate: {
        wait: async (_s: unknown, n: unknown) => {
          started.push(Number(n));
          await gate;
          return n;
        },
      },
    };
    const first = runScript(sandbox, 'export default async (ctx) => ctx.gate.wait(1);', { capabilities });
    const second = runScript(sandbox, 'export default async (ctx) => ctx.gate.wait(2);', { capabilities });
    await waitFor(() => started.length === 1, { what: 'the first run to call the host' });
    assert.deepEqual(started, [1], 'the second run waits for the only slot');
    release();
    assert.equal(resultOf(await first), 1);
    assert.equal(resultOf(await second), 2);

    const hanging = runScript(sandbox, 'export default async (ctx) => { await ctx.sleep(60_000); }', { limits: { timeoutMs: 60_000 } });
    const queued = runScript(sandbox, 'export default async () => 1;');
    await sandbox.close();
    assert.equal((await hanging).status, 'cancelled');
    assert.equal((await queued).status, 'cancelled');
    assert.equal((await runScript(sandbox, 'export default async () => 1;')).status, 'cancelled');
  });
});

describe('isolated sandbox: supervision of child processes', () => {
  it('fails the runs of a child killed from outside as SANDBOX.CRASHED and replaces the child', async () => {
    const sandbox = createIsolatedSandbox({ processes: 1, runsPerProcess: 2, logger: silentLogger() });
    try {
      const logs: LogCall[] = [];
      const running = runScript(sandbox, 'export default async (ctx) => { ctx.log.info("up"); await ctx.sleep(60_000); }', {
        logs,
        limits: { timeoutMs: 60_000 },
      });
      await waitFor(() => logs.length > 0, { what: 'the script to start' });
      const [pid] = sandbox.processIds();
      process.kill(pid, 'SIGKILL');
      const error = errorOf(await running, 'failed');
      assert.equal(error.code, 'SANDBOX.CRASHED');
      assert.match(error.message, /killed by SIGKILL/);
      assert.equal(resultOf(await runScript(sandbox, 'export default async () => "replacement works";')), 'replacement works');
      const [replacement] = sandbox.processIds();
      assert.notEqual(replacement, pid);
    } finally {
      await sandbox.close();
    }
  });

  it('SIGKILLs a child that does not answer an abort in time; the run ends with the abort’s reason', async () => {
    const sandbox = createIsolatedSandbox({ processes: 1, runsPerProcess: 1, logger: silentLogger(), abortGraceMs: 300 });
    try {
      const logs: LogCall[] = [];
      const controller = new AbortController();
      const running = runScript(sandbox, 'export default async (ctx) => { ctx.log.info("up"); await ctx.sleep(60_000); }', {
        logs,
        signal: controller.signal,
        limits: { timeoutMs: 60_000 },
      });
      await waitFor(() => logs.length > 0, { what: 'the script to start' });
      const [pid] = sandbox.processIds();
      process.kill(pid, 'SIGSTOP'); // a frozen child cannot answer
      controller.abort();
      const error = errorOf(await running, 'cancelled');
      assert.equal(error.code, 'SANDBOX.CANCELLED');
      assert.match(error.message, /did not stop it in time and was killed/);
      assert.equal(resultOf(await runScript(sandbox, 'export default async () => 1;')), 1);
      assert.ok(!sandbox.processIds().includes(pid));
    } finally {
      await sandbox.close();
    }
  });
});
