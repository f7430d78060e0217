import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCronScheduler } from '../../engine/triggers/cron-scheduler.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/** Ticks missed while every engine was down, with a fixed clock instead of waiting. */
describe('cron catch-up', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(() => t.stop());

  const now = Date.parse('2026-11-25T10:30:20Z');
  const clock = { now: () => now };

  async function setup(name: string, lastTickMsAgo: number, trigger: Record<string, string> = { cron: '*/5 * * * *' }) {
    await t.call('PUT', `/api/v1/workflows/${name}`, { script: 'export default async function () { return 1 }', trigger });
    await t.redisClient.set(t.keys.cronLastTick(name), now - lastTickMsAgo);
  }
  function scheduler(catchUp: 'latest' | 'none', windowMs = 3600_000) {
    const s = t.system.stores;
    return createCronScheduler({
      triggers: s.triggers,
      workflows: s.workflows,
      launcher: s.launcher,
      logger: silentLogger(),
      catchUp,
      catchUpWindowMs: windowMs,
      clock,
    });
  }

  it('fires the most recent missed tick once, even when several replicas start together', async () => {
    await setup('missed', 40 * 60_000);
    const a = scheduler('latest');
    const b = scheduler('latest');
    await Promise.all([a.start(), b.start()]);
    await Promise.all([a.stop(), b.stop()]);
    const runs = await t.system.stores.runs.list('missed');
    assert.equal(runs.length, 1);
    assert.deepEqual(runs[0].trigger, { type: 'cron', tick: '2026-11-25T10:30:00.000Z', catchUp: true });
    await t.call('DELETE', '/api/v1/workflows/missed');
  });

  it('skips missed ticks with policy none, and ticks older than the window', async () => {
    await setup('skip-none', 40 * 60_000);
    const a = scheduler('none');
    await a.start();
    await a.stop();
    assert.equal((await t.system.stores.runs.list('skip-none')).length, 0);
    await setup('too-old', 3 * 3600_000, { cron: '0 7 * * *' });
    const b = scheduler('latest', 3600_000);
    await b.start();
    await b.stop();
    assert.equal((await t.system.stores.runs.list('too-old')).length, 0);
  });

  it('evaluates the expression in the workflow timezone', async () => {
    // 11:30 in Amsterdam is 10:30 UTC on this date.
    await setup('amsterdam', 10 * 60_000, { cron: '30 11 * * *', timezone: 'Europe/Amsterdam' });
    const a = scheduler('latest');
    await a.start();
    await a.stop();
    const runs = await t.system.stores.runs.list('amsterdam');
    assert.equal(runs.length, 1);
    assert.equal((runs[0].trigger as { tick: string }).tick, '2026-11-25T10:30:00.000Z');
  });
});
