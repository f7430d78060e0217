import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../engine/shared/logger.ts';
import { createCronScheduler } from '../../engine/triggers/cron-scheduler.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/**
 * A scheduler that registers a workflow while another replica is firing its current tick
 * (a second engine starting, every replica re-registering an edited workflow) must not call
 * that tick missed; ticks older than a couple of seconds are.
 */
describe('missed cron ticks: the tick being fired right now is not missed', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(() => t.stop());

  const register = async (name: string, now: number, last: number) => {
    const put = await t.call('PUT', `/api/v1/workflows/${name}`, { script: 'export default async function () { return 1 }', trigger: { cron: '* * * * * *' } });
    assert.equal(put.status, 200);
    await t.redisClient.set(t.keys.cronLastTick(name), last);
    const s = t.system.stores;
    const cron = createCronScheduler({
      triggers: s.triggers,
      workflows: { list: async () => [await s.workflows.require(name)], subscribe: () => () => undefined },
      launcher: s.launcher,
      recorder: s.recorder,
      runs: s.runs,
      logger: silentLogger(),
      catchUp: 'none',
      catchUpWindowMs: 0,
      clock: { now: () => now },
    });
    await cron.refresh();
    await cron.stop();
    return ((await t.call('GET', `/api/v1/workflows/${name}/triggers`)).body.entries as any[]).filter((e) => e.reason === 'missed');
  };

  it('the last tick before now, not yet recorded, is not counted', async () => {
    const now = Date.parse('2026-11-25T10:30:20.400Z');
    assert.deepEqual(await register('busy-tick', now, now - 1400), []);
  });

  it('ticks older than the grace are one record', async () => {
    const now = Date.parse('2026-11-25T10:30:20.400Z');
    const [missed] = await register('down-ticks', now, Date.parse('2026-11-25T10:30:10.000Z'));
    // 10:30:11 … 10:30:18: the ticks 10:30:19 and 10:30:20 are within the grace.
    assert.deepEqual([missed?.count, missed?.from, missed?.to], [8, '2026-11-25T10:30:11.000Z', '2026-11-25T10:30:18.000Z']);
  });
});
