import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

const WAIT = { timeoutMs: 30_000, intervalMs: 25 };

/**
 * The `loop` skip is visible like the others (event, GET …/triggers, /metrics), its notice
 * never reports a loop of its own, and cron lateness reaches /metrics as a histogram.
 * VEER_EVENTS_MAX_HOPS=0: an event a triggered run emits (hops 1) already starts nothing.
 */
describe('honest triggers: loops and cron lateness', () => {
  let t: TestSystem;
  const wf = workflowCalls(() => t);
  before(async () => {
    t = await startTestSystem({ engine: true, env: { VEER_EVENTS_MAX_HOPS: '0' } });
  });
  after(() => t.stop());

  const metrics = async () => (await t.call('GET', '/metrics')).body as string;
  const history = async (name: string) => (await t.call('GET', `/api/v1/workflows/${name}/triggers`)).body.entries as any[];

  it('loop: an event past the hop limit is a trigger.skipped event, a history entry and a counter; the notice reports no loop itself', async () => {
    await wf.put('relay', {
      script: "export default async function (ctx) { await ctx.events.emit({ tags: ['loop-next'], type: 'relayed' }); return 1 }",
      trigger: { events: { tags: ['loop-start'] } },
    });
    await wf.put('looped', { script: 'export default async function () { return 1 }', trigger: { events: { tags: ['loop-next'] } } });
    // Matches the notice about `looped`, which carries the hops of what it reports.
    await wf.put('notice-watcher', {
      script: 'export default async function () { return 1 }',
      trigger: { events: { tags: ['triggers'], type: 'trigger.skipped' } },
    });
    await wf.put('sentinel', { script: 'export default async function () { return 1 }', trigger: { events: { tags: ['loop-sentinel'] } } });

    assert.equal((await t.call('POST', '/api/v1/events', { tags: ['loop-start'], type: 'go' })).status, 201);
    const notice = await waitFor(
      async () => {
        const events = (await t.call('GET', '/api/v1/events?tag=workflows:looped&type=trigger.skipped')).body.events as any[];
        return events.find((e) => e.value.reason === 'loop');
      },
      { ...WAIT, what: 'the loop notice' },
    );
    assert.equal(notice.value.workflow, 'looped');
    assert.equal(notice.value.trigger, 'event');
    assert.equal(notice.source, 'veer');
    assert.ok(notice.hops >= 1, 'the notice carries the hops of the event it reports');

    const entry = (await history('looped')).find((e) => e.reason === 'loop');
    assert.equal(entry?.outcome, 'skipped');
    assert.equal(entry.eventId, notice.value.eventId);
    assert.match(await metrics(), /^veer_trigger_skipped_total\{workflow="looped",reason="loop"\} 1$/m);
    assert.equal((await wf.runsOf('looped')).length, 0);

    // The dispatcher handles events in order: once the sentinel has run, the notice has been handled too.
    assert.equal((await t.call('POST', '/api/v1/events', { tags: ['loop-sentinel'] })).status, 201);
    await waitFor(async () => (await wf.runsOf('sentinel')).length === 1, { ...WAIT, what: 'the sentinel run' });
    assert.deepEqual(await history('notice-watcher'), [], 'a trigger.skipped notice is never itself reported as a loop');
    assert.equal((await wf.runsOf('notice-watcher')).length, 0);
  });

  it('cron lateness (tick → run started) is the histogram veer_cron_lateness_seconds; the skip counter is a counter', async () => {
    await wf.put('ticker', { script: 'export default async function () { return 1 }', trigger: { cron: '* * * * * *' } });
    await waitFor(async () => (await wf.runsOf('ticker')).some((r) => r.trigger.type === 'cron' && r.status === 'succeeded'), { ...WAIT, what: 'a cron run' });
    const text = await waitFor(
      async () => {
        const m = await metrics();
        const count = /^veer_cron_lateness_seconds_count (\d+)$/m.exec(m);
        return count && Number(count[1]) >= 1 && m;
      },
      { ...WAIT, what: 'a lateness observation' },
    );
    assert.match(text, /^# TYPE veer_cron_lateness_seconds histogram$/m);
    assert.match(text, /^veer_cron_lateness_seconds_bucket\{le="\+Inf"\} \d+$/m);
    assert.match(text, /^# TYPE veer_trigger_skipped_total counter$/m);
    assert.ok(
      (await history('ticker')).some((e) => e.outcome === 'fired' && e.tick),
      'each fired tick is in the history with its tick',
    );
    assert.equal((await t.call('DELETE', '/api/v1/workflows/ticker')).status, 204);
  });
});
