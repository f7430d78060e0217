import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEngineProcess } from '../helpers/engine-process.ts';
import type { ServiceProcess } from '../helpers/process.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Several engine processes on one Redis, as in a real deployment with replicas. */
describe('engine replicas', () => {
  let t: TestSystem;
  const procs: ServiceProcess[] = [];
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await t.stop();
  });

  it('fires each cron tick exactly once with three engines running', async () => {
    const res = await t.call('PUT', '/api/v1/workflows/every-second', {
      script: 'export default async function (ctx) { return ctx.run.trigger.tick }',
      trigger: { cron: '* * * * * *' },
      overlap: 'allow',
    });
    assert.equal(res.status, 200);
    const engines = [1, 2, 3].map(() => startEngineProcess({ ...t.env, VEER_SHUTDOWN_GRACE_MS: '1000' }));
    procs.push(...engines);
    await waitFor(async () => (await t.redisClient.scard(t.keys.engines)) === 3, { timeoutMs: 30_000, what: 'three engines to register' });
    const firstTick = Date.now();
    const runs = await waitFor(
      async () => {
        const list = await t.system.stores.runs.list('every-second', { limit: 200 });
        const settled = list.filter((r) => Date.parse((r.trigger as { tick: string }).tick) > firstTick);
        return settled.length >= 5 && list;
      },
      { timeoutMs: 30_000, what: 'five ticks after all engines were up' },
    );
    const ticks = runs.map((r) => (r.trigger as { tick: string }).tick);
    assert.equal(new Set(ticks).size, ticks.length, `duplicate ticks: ${ticks.join(', ')}`);
    const after = ticks
      .map((s) => Date.parse(s))
      .filter((ms) => ms > firstTick)
      .sort((a, b) => a - b);
    for (let i = 1; i < after.length; i++) assert.equal(after[i] - after[i - 1], 1000, 'no tick is skipped');
    await t.call('DELETE', '/api/v1/workflows/every-second');
    await Promise.all(engines.map((p) => p.stop()));
  });

  it('resumes a run interrupted by an engine crash as a new attempt on another engine', async () => {
    await t.call('PUT', '/api/v1/workflows/survivor', {
      script:
        'export default async function (ctx) { ctx.log.info("attempt " + ctx.run.attempt); if (ctx.run.attempt === 1) await ctx.sleep(60000); return ctx.run.attempt }',
      limits: { timeoutMs: 120000 },
    });
    const env = { ...t.env, VEER_JOB_LOCK_MS: '1000' };
    const first = startEngineProcess(env);
    procs.push(first);
    const started = await t.call('POST', '/api/v1/workflows/survivor/runs', {});
    await waitFor(async () => (await t.system.stores.runs.get(started.body.id))?.status === 'running', { timeoutMs: 30_000, what: 'run to start' });
    await first.stop('SIGKILL');
    const second = startEngineProcess(env);
    procs.push(second);
    const run = await waitFor(
      async () => {
        const r = await t.system.stores.runs.get(started.body.id);
        return r?.status === 'succeeded' && r;
      },
      { timeoutMs: 30_000, what: 'the run to be resumed and finish' },
    );
    assert.equal(run.result, 2);
    assert.equal(run.attempts, 2);
    const logs = await t.system.stores.runs.readLog(run.id);
    assert.ok(
      logs.some((e) => /interrupted/.test(e.message)),
      'the log says the first attempt was interrupted',
    );
    await second.stop();
  });

  it('drains a running run on SIGTERM before exiting', async () => {
    await t.call('PUT', '/api/v1/workflows/drain', { script: 'export default async function (ctx) { await ctx.sleep(300); return "finished" }' });
    const engine = startEngineProcess({ ...t.env, VEER_SHUTDOWN_GRACE_MS: '10000' });
    procs.push(engine);
    const started = await t.call('POST', '/api/v1/workflows/drain/runs', {});
    await waitFor(async () => (await t.system.stores.runs.get(started.body.id))?.status === 'running', { timeoutMs: 30_000, what: 'run to start' });
    await engine.stop('SIGTERM');
    const run = await t.system.stores.runs.get(started.body.id);
    assert.equal(run?.status, 'succeeded');
    assert.equal(run?.result, 'finished');
  });
});
