import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startPersistentRedis, type PersistentRedis } from '../helpers/redis-server.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * Fault: Redis (with AOF) is stopped for a few seconds under a per-second cron schedule.
 * Expectation: the ticks that fell in the outage are reported as one `missed` skip in the
 * workflow's trigger history (count, from, to), and the schedule goes on by itself afterwards.
 * Before the fix they were only logged: the history showed nothing between the last run before
 * the outage and the first after it.
 */
const OUTAGE_MS = 4_000;

describe('fault: cron ticks during a Redis outage', () => {
  let redis: PersistentRedis;
  let t: TestSystem;
  before(async () => {
    redis = await startPersistentRedis();
    t = await startTestSystem({ redis, env: { VEER_CRON_CATCH_UP: 'latest' } });
  });
  after(async () => {
    await t.stop();
    await redis.stop();
  });

  it('reports the missed ticks once Redis is back and keeps firing', async (ctx) => {
    const put = await t.call('PUT', '/api/v1/workflows/per-second', {
      script: 'export default async function (ctx) { return ctx.run.trigger.tick }',
      trigger: { cron: '* * * * * *' },
      overlap: 'allow',
    });
    assert.equal(put.status, 200);
    await waitFor(async () => (await t.system.stores.runs.list('per-second')).length >= 2, { timeoutMs: 30_000, what: 'the schedule to fire' });

    const downAt = Date.now();
    await redis.down();
    // The fault's length, not a synchronisation: the schedule keeps ticking meanwhile.
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await redis.up();
    const upAt = Date.now();

    const missed = await waitFor(
      async () => {
        const res = await t.call('GET', '/api/v1/workflows/per-second/triggers');
        return res.status === 200 && (res.body.entries as any[]).find((e) => e.reason === 'missed');
      },
      { timeoutMs: 30_000, what: 'a missed record for the outage' },
    );
    const outageTicks = Math.floor((upAt - downAt) / 1000);
    ctx.diagnostic(`outage ${upAt - downAt} ms; recorded missed ${missed.count} ticks from ${missed.from} to ${missed.to}`);
    // Upper: ticks also fall while the engine reconnects after Redis is back (its back-off).
    assert.ok(missed.count >= outageTicks - 2 && missed.count <= outageTicks + 6, `missed ${missed.count} for ${outageTicks} outage seconds`);
    // Around the outage: a tick the loaded scheduler was still firing when Redis went can be among them.
    const around = `outage ${new Date(downAt).toISOString()}..${new Date(upAt).toISOString()}: ${JSON.stringify(missed)}`;
    assert.ok(Date.parse(missed.from) >= downAt - 3_000 && Date.parse(missed.to) <= upAt + 5_000, around);

    const before = (await t.system.stores.runs.list('per-second', { limit: 500 })).length;
    await waitFor(async () => (await t.system.stores.runs.list('per-second', { limit: 500 })).length >= before + 2, {
      timeoutMs: 30_000,
      what: 'the schedule to go on after the outage',
    });
  });
});
