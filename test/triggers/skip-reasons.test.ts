import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../engine/shared/logger.ts';
import { createCronScheduler } from '../../engine/triggers/cron-scheduler.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

const WAIT = { timeoutMs: 30_000, intervalMs: 25 };

/**
 * Every trigger that starts no run is visible through the API three ways: a `trigger.skipped`
 * event, an entry in GET …/triggers, and `veer_trigger_skipped_total{workflow,reason}` on /metrics.
 */
describe('honest triggers: every skip is visible', () => {
  let t: TestSystem;
  const wf = workflowCalls(() => t);
  before(async () => {
    t = await startTestSystem({ engine: true });
  });
  after(() => t.stop());

  const history = async (name: string) => (await t.call('GET', `/api/v1/workflows/${name}/triggers`)).body.entries as any[];
  const skipEvents = async (name: string) =>
    ((await t.call('GET', `/api/v1/events?tag=workflows:${name}&type=trigger.skipped&limit=100`)).body.events as any[]).map((e) => e.value);
  const counter = async (name: string, reason: string) => {
    const text = (await t.call('GET', '/metrics')).body as string;
    const m = text.match(new RegExp(`^veer_trigger_skipped_total\\{workflow="${name}",reason="${reason}"\\} (\\d+)$`, 'm'));
    return m ? Number(m[1]) : 0;
  };
  async function visible(name: string, reason: string) {
    await waitFor(async () => (await history(name)).some((e) => e.outcome === 'skipped' && e.reason === reason), { ...WAIT, what: `${reason} in the history` });
    await waitFor(async () => (await skipEvents(name)).some((v) => v.reason === reason && v.workflow === name), { ...WAIT, what: `${reason} event` });
    assert.ok((await counter(name, reason)) >= 1, `veer_trigger_skipped_total for ${reason}`);
  }
  const post = (tags: string[]) => t.call('POST', '/api/v1/events', { tags, type: 'alert', value: {} });
  /**
   * The first event for a just-defined workflow: the dispatcher learns of the workflow through a
   * change signal, and an event that beats the signal matches nothing — so it is posted again
   * until the workflow's trigger history shows it was seen.
   */
  const postFirst = (name: string, tags: string[]) =>
    waitFor(
      async () => {
        await post(tags);
        return waitFor(async () => (await history(name)).length > 0, { timeoutMs: 2000, intervalMs: 25, what: 'seen' }).then(
          () => true,
          () => false,
        );
      },
      { ...WAIT, what: `the dispatcher to see ${name}` },
    );

  it('overlap skip: an event while a run is active; its dedupe key names no run that never existed', async () => {
    await wf.put('busy', {
      script: 'export default async function (ctx) { await ctx.sleep(1500); return 1 }',
      trigger: { events: { tags: ['busy-alerts'] } },
      overlap: 'skip',
    });
    await postFirst('busy', ['busy-alerts']);
    await waitFor(async () => (await wf.runsOf('busy')).length === 1, { ...WAIT, what: 'first run' });
    const second = await post(['busy-alerts']);
    await visible('busy', 'overlap');
    const entry = (await history('busy')).find((e) => e.reason === 'overlap');
    assert.equal(entry.eventId, second.body.id);
    assert.equal(entry.runId, (await wf.runsOf('busy'))[0].id, 'names the active run that made it skip');
    const dedupe = await t.redisClient.get(t.keys.dedupe('busy', `event:${second.body.id}`));
    assert.equal(dedupe, 'skipped:overlap', 'the dedupe entry records the skip, not a run id');
    assert.equal((await wf.runsOf('busy')).length, 1);
  });

  it('event triggers queue by default: two alerts 10 ms apart run one after the other; past overlapQueue they are skipped (queue_full)', async () => {
    await wf.put('queued', {
      script: 'export default async function (ctx) { await ctx.sleep(300); return ctx.input.id }',
      trigger: { events: { tags: ['q-alerts'] } },
      overlapQueue: 1,
    });
    await postFirst('queued', ['q-alerts']);
    await post(['q-alerts']);
    await post(['q-alerts']);
    await visible('queued', 'queue_full');
    const runs = await waitFor(
      async () => {
        const r = await wf.runsOf('queued');
        return r.length === 2 && r.every((x) => x.status === 'succeeded') && r;
      },
      { ...WAIT, what: 'two runs succeeded' },
    );
    const [second, first] = runs;
    assert.ok(Date.parse(second.startedAt) >= Date.parse(first.finishedAt), 'the queued run started after the first ended');
    const outcomes = (await history('queued')).map((e) => e.outcome).reverse();
    assert.deepEqual(outcomes, ['fired', 'queued', 'skipped']);
  });

  it('paused: cron ticks are refused and recorded; resume starts runs again; manual runs still work while paused', async () => {
    await wf.put('pausable', { script: 'export default async function () { return 1 }', trigger: { cron: '* * * * * *' } });
    const paused = await t.call('POST', '/api/v1/workflows/pausable/pause', { reason: 'investigating' });
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    assert.equal(paused.body.paused.reason, 'investigating');
    const before = (await wf.runsOf('pausable')).length;
    await visible('pausable', 'paused');
    assert.equal((await wf.runsOf('pausable')).filter((r) => r.trigger.type === 'cron').length <= before + 1, true);
    const manual = await wf.run('pausable');
    assert.equal(manual.status, 'succeeded');
    assert.equal((await t.call('POST', '/api/v1/workflows/pausable/resume')).status, 200);
    await waitFor(async () => (await history('pausable'))[0]?.outcome === 'fired', { ...WAIT, what: 'a tick fired after resume' });
  });

  it('disabled: event triggers are refused and recorded', async () => {
    await wf.put('off', { script: 'export default async function () { return 1 }', trigger: { events: { tags: ['off-alerts'] } }, enabled: false });
    await postFirst('off', ['off-alerts']);
    await visible('off', 'disabled');
    assert.equal((await wf.runsOf('off')).length, 0);
  });

  it('missed: ticks that fell while no engine ran are one record with their count', async () => {
    // A system of its own without an engine: only this scheduler, on a fixed clock, sees the workflow.
    const quiet = await startTestSystem({ engine: false, redis: t.redis });
    try {
      const put = await quiet.call('PUT', '/api/v1/workflows/missed', {
        script: 'export default async function () { return 1 }',
        trigger: { cron: '*/5 * * * *' },
      });
      assert.equal(put.status, 200);
      const now = Date.parse('2026-11-25T10:30:20Z');
      await quiet.redisClient.set(quiet.keys.cronLastTick('missed'), now - 3600_000);
      const s = quiet.system.stores;
      const cron = createCronScheduler({
        triggers: s.triggers,
        workflows: s.workflows,
        launcher: s.launcher,
        recorder: s.recorder,
        runs: s.runs,
        logger: silentLogger(),
        catchUp: 'latest',
        catchUpWindowMs: 3600_000,
        clock: { now: () => now },
      });
      await cron.refresh();
      await cron.stop();
      const entries = (await quiet.call('GET', '/api/v1/workflows/missed/triggers')).body.entries as any[];
      const entry = entries.find((e) => e.reason === 'missed');
      // 12 ticks in the hour; the latest (10:30) was caught up and fired.
      assert.equal(entry?.count, 11, JSON.stringify(entries));
      assert.equal(entry.from, '2026-11-25T09:35:00.000Z');
      assert.equal(entry.to, '2026-11-25T10:25:00.000Z');
      assert.ok(entries.some((e) => e.outcome === 'fired' && e.tick === '2026-11-25T10:30:00.000Z'));
      const events = (await quiet.call('GET', '/api/v1/events?tag=workflows:missed&type=trigger.skipped')).body.events as any[];
      assert.equal(events.filter((e) => e.value.reason === 'missed').length, 1);
      const text = (await quiet.call('GET', '/metrics')).body as string;
      assert.match(text, /^veer_trigger_skipped_total\{workflow="missed",reason="missed"\} 11$/m);
    } finally {
      await quiet.stop();
    }
  });
});
