import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { startEngineProcess } from '../helpers/engine-process.ts';
import type { ServiceProcess } from '../helpers/process.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * Fault: the engine running a run is killed (SIGKILL) while a second engine stands by.
 * Expectation (README, Reliability): the standby resumes it within 1.25 × VEER_JOB_LOCK_MS as
 * attempt 2, and the record still shows the run's first start and says the first attempt was
 * interrupted (so `attempts 2 / maxAttempts 1` is explained, not a mystery). Before the fix
 * resuming took up to 2 × the lock and the record lost its first start time.
 */
const LOCK_MS = 2_000;

describe('fault: the engine running a run is killed or outlasts its grace period', () => {
  let t: TestSystem;
  let engines: ServiceProcess[] = [];
  // A system of its own per test: an engine left from one must not pick up the next one's run.
  beforeEach(async () => {
    t = await startTestSystem({ engine: false });
  });
  afterEach(async () => {
    await Promise.all(engines.map((e) => e.stop('SIGKILL')));
    engines = [];
    await t.stop();
  });

  it('is resumed by the standby within 1.25 × the lock, keeping its first start', async (ctx) => {
    await t.call('PUT', '/api/v1/workflows/resumable', {
      script: 'export default async function (ctx) { if (ctx.run.attempt === 1) await ctx.sleep(120000); return ctx.run.attempt }',
    });
    const env = { ...t.env, VEER_JOB_LOCK_MS: String(LOCK_MS) };
    const first = startEngineProcess(env);
    engines.push(first);
    await waitFor(async () => (await t.redisClient.scard(t.keys.engines)) === 1, { timeoutMs: 30_000, what: 'the first engine to register' });
    const run = (await t.call('POST', '/api/v1/workflows/resumable/runs', {})).body;
    const running = await waitFor(
      async () => {
        const r = await t.system.stores.runs.get(run.id);
        return r?.status === 'running' && r;
      },
      { timeoutMs: 30_000, what: 'the run to start' },
    );
    const standby = startEngineProcess(env);
    engines.push(standby);
    await waitFor(async () => (await t.redisClient.scard(t.keys.engines)) === 2, { timeoutMs: 30_000, what: 'the standby to register' });

    await first.stop('SIGKILL');
    const killed = Date.now();
    const done = await waitFor(
      async () => {
        const r = await t.system.stores.runs.get(run.id);
        return r?.status === 'succeeded' && r;
      },
      { timeoutMs: 30_000, what: 'the run to be resumed and finish' },
    );
    const resumedAfter = Date.parse(done.attemptStartedAt!) - killed;
    ctx.diagnostic(`resumed ${resumedAfter} ms after SIGKILL (lock ${LOCK_MS} ms; bound 1.25 × = ${LOCK_MS * 1.25} ms)`);
    // The bound plus room for a loaded machine's scheduling; the figure above is the measurement.
    assert.ok(resumedAfter <= LOCK_MS * 1.25 + 1_000, `resumed after ${resumedAfter} ms`);
    assert.equal(done.result, 2);
    assert.equal(done.attempts, 2);
    assert.equal(done.interrupted, 1);
    assert.equal(done.maxAttempts, 1);
    assert.equal(done.startedAt, running.startedAt, 'the first start time is kept');
    assert.ok(Date.parse(done.attemptStartedAt!) > Date.parse(done.startedAt!));
  });

  it("a run still going when SIGTERM's grace period ends is resumed by the standby, not stored as cancelled", async (ctx) => {
    await t.call('PUT', '/api/v1/workflows/outlives-grace', {
      script: 'export default async function (ctx) { if (ctx.run.attempt === 1) await ctx.sleep(120000); return ctx.run.attempt }',
    });
    const env = { ...t.env, VEER_JOB_LOCK_MS: String(LOCK_MS), VEER_SHUTDOWN_GRACE_MS: '1000' };
    const first = startEngineProcess(env);
    engines.push(first);
    await waitFor(async () => (await t.redisClient.scard(t.keys.engines)) === 1, { timeoutMs: 30_000, what: 'the engine to register' });
    const run = (await t.call('POST', '/api/v1/workflows/outlives-grace/runs', {})).body;
    await waitFor(async () => (await t.system.stores.runs.get(run.id))?.engineId !== undefined, { timeoutMs: 30_000, what: 'the run to start' });
    const standby = startEngineProcess(env);
    engines.push(standby);
    await waitFor(async () => (await t.redisClient.scard(t.keys.engines)) === 2, { timeoutMs: 30_000, what: 'the standby to register' });

    first.child.kill('SIGTERM');
    const signalled = Date.now();
    const done = await waitFor(
      async () => {
        const r = await t.system.stores.runs.get(run.id);
        return r && r.status !== 'running' && r.status !== 'queued' && r;
      },
      { timeoutMs: 30_000, what: 'the run to end' },
    );
    ctx.diagnostic(`resumed ${Date.parse(done.attemptStartedAt!) - signalled} ms after SIGTERM (grace 1000 ms, lock ${LOCK_MS} ms)`);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.result, 2);
    assert.equal(done.interrupted, 1);
  });
});
