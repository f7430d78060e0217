import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SandboxOutcome } from '../../engine/ports/sandbox-host.ts';
import { compileScript } from '../../engine/sandbox/compile.ts';
import { createIsolatedSandbox } from '../../engine/sandbox/isolated-host.ts';
import { silentLogger, type Logger } from '../../engine/shared/logger.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';
import { LIMITS, makeContext, makeScope, resultOf, type LogCall } from '../sandbox/fixtures.ts';

function errorOf(outcome: SandboxOutcome, status: 'failed' | 'timed_out' | 'cancelled') {
  if (outcome.status === 'succeeded') assert.fail(`expected ${status}, got ${JSON.stringify(outcome)}`);
  assert.equal(outcome.status, status, JSON.stringify(outcome));
  return outcome.error;
}

/**
 * Issue 9, class 5 (process side): whatever a script does to its sandbox process, the process
 * side cannot hang and never fails a bystander. A run that does not stop is killed with its
 * process after the grace period; a process that stops answering pings is killed; everyone
 * who shared it is re-run alone at no cost to their retries.
 */
describe('supervision through the API', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ env: { VEER_SANDBOX_PROCESSES: '1', VEER_ENGINE_CONCURRENCY: '2', VEER_SANDBOX_KILL_GRACE_MS: '500' } });
  });
  after(() => t.stop());

  const { finished } = workflowCalls(() => t);

  it('a top-level throw of an object with looping getters ends failed; the run sharing its process succeeds', async () => {
    await t.call('PUT', '/api/v1/workflows/patient', {
      script: 'export default async function (ctx) { ctx.log.info("up"); await ctx.sleep(ctx.run.attempt === 1 ? 5000 : 10); return "done" }',
      limits: { timeoutMs: 60_000 },
    });
    const put = await t.call('PUT', '/api/v1/workflows/looper', {
      script: `const o = {};
        Object.defineProperty(o, 'message', { get() { for (;;) {} } });
        Object.defineProperty(o, 'stack', { get() { for (;;) {} } });
        Object.defineProperty(o, 'name', { get() { for (;;) {} } });
        throw o;
        export default async () => 1;`,
      limits: { timeoutMs: 1500 },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const patient = await t.call('POST', '/api/v1/workflows/patient/runs', {});
    await waitFor(async () => (await t.system.stores.runs.readLog(patient.body.id)).length > 0, { timeoutMs: 20_000, what: 'the bystander to be running' });
    const looper = await t.call('POST', '/api/v1/workflows/looper/runs', {});

    const l = await finished(looper.body.id);
    assert.equal(l.status, 'failed');
    // Stopped by the process side (killed with its process) or, once errors are read inside the
    // isolate under its limits, as an ordinary script error: never hanging, never `running`.
    assert.ok(['SANDBOX.UNRESPONSIVE', 'SCRIPT.ERROR'].includes(l.error.code), l.error.code);
    if (l.error.code === 'SANDBOX.UNRESPONSIVE') assert.match(l.error.message, /did not stop when it passed its deadline of 1500 ms/);

    const p = await finished(patient.body.id);
    assert.equal(p.status, 'succeeded', JSON.stringify(p.error));
    assert.equal(p.result, 'done');
  });
});

describe('supervision of the pool', () => {
  const request = (source: string, runId: string, logs: LogCall[] = [], timeoutMs = 60_000) => ({
    code: compileScript(source),
    context: makeContext(),
    limits: { ...LIMITS, timeoutMs, cpuMs: timeoutMs },
    capabilities: {},
    scope: { ...makeScope(logs), runId },
  });
  const SLEEPER = 'export default async (ctx) => { ctx.log.info("up"); await ctx.sleep(60_000); }';

  it('kills a process that stops answering; the runs it shared end PROCESS_LOST and, run again, each gets its own process', async () => {
    const sandbox = createIsolatedSandbox({ processes: 1, runsPerProcess: 2, logger: silentLogger(), unresponsiveMs: 1000 });
    try {
      const logsA: LogCall[] = [];
      const logsB: LogCall[] = [];
      const a = sandbox.run(request(SLEEPER, 'run-a', logsA));
      const b = sandbox.run(request(SLEEPER, 'run-b', logsB));
      await waitFor(() => logsA.length > 0 && logsB.length > 0, { what: 'both scripts to start' });
      const [pid] = sandbox.processIds();
      process.kill(pid, 'SIGSTOP'); // a child whose main thread is blocked answers nothing
      for (const outcome of [await a, await b]) {
        const error = errorOf(outcome, 'failed');
        assert.equal(error.code, 'SANDBOX.PROCESS_LOST');
        assert.match(error.message, /shared with 1 other run stopped answering for \d+ ms and was killed/);
      }
      assert.ok(!sandbox.processIds().includes(pid), 'the silent process is gone');
      // The same runs again: each is forked a process of its own, beside the pool's replacement.
      const quick = 'export default async () => "again"';
      const again = [sandbox.run(request(quick, 'run-a')), sandbox.run(request(quick, 'run-b'))];
      await waitFor(() => sandbox.processIds().length >= 2, { what: 'dedicated processes' });
      assert.deepEqual((await Promise.all(again)).map(resultOf), ['again', 'again']);
    } finally {
      await sandbox.close();
    }
  });

  it('kills a process whose run does not stop when told to; the run that shared it is re-run, the stuck one ends as told', async () => {
    // Fault injection: a child that still answers pings but never hears the abort of a run.
    const deaf = `const on = process.on.bind(process);
      process.on = (event, fn) => on(event, event === 'message' ? (m) => { if (m?.t !== 'abort') fn(m); } : fn);`;
    const sandbox = createIsolatedSandbox({
      processes: 1,
      runsPerProcess: 2,
      logger: silentLogger(),
      abortGraceMs: 500,
      childExecArgv: ['--import', `data:text/javascript,${encodeURIComponent(deaf)}`],
    });
    try {
      const logsA: LogCall[] = [];
      const logsB: LogCall[] = [];
      const controller = new AbortController();
      const stuck = sandbox.run(request(SLEEPER, 'run-stuck', logsA), controller.signal);
      const bystander = sandbox.run(request(SLEEPER, 'run-by', logsB));
      await waitFor(() => logsA.length > 0 && logsB.length > 0, { what: 'both scripts to start' });
      controller.abort();
      const cancelled = errorOf(await stuck, 'cancelled');
      assert.match(cancelled.message, /did not stop it in time and was killed/);
      const lost = errorOf(await bystander, 'failed');
      assert.equal(lost.code, 'SANDBOX.PROCESS_LOST');
      assert.match(lost.message, /a run in it did not stop within 500 ms/);
      assert.equal(resultOf(await sandbox.run(request('export default async () => "again"', 'run-by'))), 'again');
    } finally {
      await sandbox.close();
    }
  });

  it('a run stuck in an isolate call that a stop cannot end is named in the kill log, and run again alone when it reached nothing outside', async () => {
    // Fault injection: compiling the script never settles, not even once the isolate is disposed
    // (the kind of unraced isolate call suspected of trivial runs seen stuck under load). The
    // process still answers pings. (isolated-vm's methods cannot be patched: the engine's own
    // module is swapped as it loads.)
    const hang = `import { registerHooks } from 'node:module';
      registerHooks({ load(url, context, next) {
        const loaded = next(url, context);
        if (!url.endsWith('/engine/sandbox/code-cache.ts')) return loaded;
        const source = String(loaded.source).replace('export async function compileModuleCached(', 'export async function compileModuleCached() { return new Promise(() => {}); }\\nasync function unused(');
        return { ...loaded, source };
      } });`;
    const warnings: Array<{ fields: Record<string, unknown>; message?: string }> = [];
    const warn = (fields: object | string, message?: string) =>
      void warnings.push(typeof fields === 'string' ? { fields: {}, message: fields } : { fields: fields as Record<string, unknown>, message });
    const logger: Logger = { ...silentLogger(), warn, child: () => logger };
    const sandbox = createIsolatedSandbox({
      processes: 1,
      runsPerProcess: 1,
      logger,
      abortGraceMs: 1000,
      childExecArgv: ['--import', `data:text/javascript,${encodeURIComponent(hang)}`],
    });
    try {
      const outcome = await sandbox.run(request('export default async () => 1', 'run-hung', [], 500));
      // Stuck while the child answered, having reached nothing outside: run again at once in a
      // process of its own, where it is stuck again (every child here has the fault): the culprit.
      const error = errorOf(outcome, 'failed');
      assert.equal(error.code, 'SANDBOX.UNRESPONSIVE', JSON.stringify(error));
      assert.ok(
        warnings.some((w) => /running it again in a process of its own/.test(w.message ?? '')),
        JSON.stringify(warnings),
      );
      const exits = warnings.filter((w) => typeof w.fields.stderr === 'string' && w.fields.stderr !== '');
      assert.equal(exits.length, 2, JSON.stringify(warnings));
      for (const exit of exits) assert.match(String(exit.fields.stderr), /still waiting for compile \(isolate disposed\) 300 ms after its timeout/);
    } finally {
      await sandbox.close();
    }
  });

  it('fails a run alone in a silent process SANDBOX.UNRESPONSIVE', async () => {
    const sandbox = createIsolatedSandbox({ processes: 1, runsPerProcess: 1, logger: silentLogger(), unresponsiveMs: 1000 });
    try {
      const logs: LogCall[] = [];
      const running = sandbox.run(request(SLEEPER, 'run-alone', logs));
      await waitFor(() => logs.length > 0, { what: 'the script to start' });
      process.kill(sandbox.processIds()[0], 'SIGSTOP');
      const error = errorOf(await running, 'failed');
      assert.equal(error.code, 'SANDBOX.UNRESPONSIVE');
      assert.match(error.message, /stopped answering for \d+ ms \(VEER_SANDBOX_UNRESPONSIVE_MS\)/);
      assert.equal(resultOf(await sandbox.run(request('export default async () => 1', 'next'))), 1);
    } finally {
      await sandbox.close();
    }
  });

  it('replaces a child after VEER_SANDBOX_RECYCLE_RUNS runs, and an idle one over VEER_SANDBOX_RECYCLE_RSS_MB', async () => {
    const byRuns = createIsolatedSandbox({ processes: 1, runsPerProcess: 1, logger: silentLogger(), recycleRuns: 2 });
    try {
      const one = 'export default async () => 1';
      assert.equal(resultOf(await byRuns.run(request(one, 'r1'))), 1);
      const [first] = byRuns.processIds();
      assert.equal(resultOf(await byRuns.run(request(one, 'r2'))), 1);
      await waitFor(() => byRuns.processIds().length === 1 && byRuns.processIds()[0] !== first, { what: 'the child to be replaced after 2 runs' });
      assert.equal(resultOf(await byRuns.run(request(one, 'r3'))), 1);
    } finally {
      await byRuns.close();
    }
    // Every child is over 16 MB (a bare one is ~50): each is replaced once it ran something and is idle.
    const byRss = createIsolatedSandbox({ processes: 1, runsPerProcess: 1, logger: silentLogger(), recycleRssMb: 16 });
    try {
      await waitFor(() => byRss.processIds().length === 1, { what: 'the pool to start' });
      const [fresh] = byRss.processIds();
      assert.equal(resultOf(await byRss.run(request('export default async () => 2', 'r4'))), 2);
      await waitFor(() => byRss.processIds().length === 1 && byRss.processIds()[0] !== fresh, { what: 'the grown idle child to be replaced' });
      const [replacement] = byRss.processIds();
      // A fresh child that ran nothing is never recycled for its size.
      assert.equal(resultOf(await byRss.run(request('export default async () => 3', 'r5'))), 3);
      assert.notEqual(replacement, fresh);
    } finally {
      await byRss.close();
    }
  });
});
