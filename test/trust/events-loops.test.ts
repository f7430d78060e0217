import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

const WAIT = { timeoutMs: 30_000, intervalMs: 25 };

/**
 * Two workflows triggering each other ran forever (≥400 runs in 6 s from one event). Every
 * event a run causes — its emits and Veer's events about it — counts one hop more than the
 * event that started the run; past VEER_EVENTS_MAX_HOPS a trigger starts nothing and says so
 * with a `trigger.skipped` event (reason `loop`). Without the fix these tests never see that
 * event and time out.
 */
describe('event trigger loops end', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ env: { VEER_EVENTS_TRIGGER_REFRESH_MS: '100' } });
  });
  after(() => t.stop());

  const { put, runsOf } = workflowCalls(() => t);

  const skippedFor = (name: string) =>
    waitFor(
      async () => {
        const events = (await t.call('GET', `/api/v1/events?type=trigger.skipped&tag=workflows:${name}`)).body.events as any[];
        return events.length > 0 && events;
      },
      { ...WAIT, what: `trigger.skipped for ${name}` },
    );
  const allFinished = (names: string[]) =>
    waitFor(
      async () => {
        const runs = (await Promise.all(names.map(runsOf))).flat();
        return runs.length > 0 && runs.every((r) => r.status === 'succeeded') && runs;
      },
      { ...WAIT, what: `the runs of ${names.join(', ')} to finish` },
    );
  /** Waits until the dispatcher's workflow list includes everything put so far (a probe put last has run). */
  let probes = 0;
  const settle = async () => {
    const name = `probe-${++probes}`;
    await put(name, { script: 'export default async function () { return 1 }', trigger: { events: { tags: [`sentinel:${name}`] } } });
    await waitFor(
      async () => {
        if ((await runsOf(name)).length > 0) return true;
        await t.call('POST', '/api/v1/events', { tags: [`sentinel:${name}`] });
        return false;
      },
      { ...WAIT, intervalMs: 100, what: `a sentinel to reach ${name}` },
    );
  };

  it('two workflows emitting each other’s trigger stop after the hop limit, with trigger.skipped (reason loop)', async () => {
    const echo = (emits: string) => `export default async function (ctx) { await ctx.events.emit({ tags: ['${emits}'] }); return ctx.run.trigger }`;
    await put('ping', { script: echo('pong'), trigger: { events: { tags: ['ping'] } }, overlap: 'allow' });
    await put('pong', { script: echo('ping'), trigger: { events: { tags: ['pong'] } }, overlap: 'allow' });
    await settle();

    const start = await t.call('POST', '/api/v1/events', { tags: ['ping'] });
    assert.equal(start.status, 201);
    const [skipped] = await skippedFor('ping');
    assert.equal(skipped.source, 'veer');
    assert.equal(skipped.value.reason, 'loop');
    assert.equal(skipped.value.workflow, 'ping');
    const maxHops = skipped.value.maxHops as number;
    assert.equal(skipped.value.hops, maxHops + 1);

    // Every run of the loop started before the event that was skipped: the counts are final.
    const runs = await allFinished(['ping', 'pong']);
    assert.equal(runs.length, maxHops + 1, JSON.stringify(runs.map((r) => [r.workflow, r.trigger])));
    assert.deepEqual(
      runs.map((r) => r.trigger.hops ?? 0).sort((a, b) => a - b),
      [...Array(maxHops + 1).keys()],
      'each run one hop further',
    );
    assert.equal(runs.find((r) => (r.trigger.hops ?? 0) === 0).trigger.eventId, start.body.id);
  });

  it('a loop through Veer’s own run events ends the same way', async () => {
    const onSuccessOf = (other: string) => ({
      script: 'export default async function (ctx) { return ctx.run.trigger }',
      trigger: { events: { type: 'run.succeeded', tags: [`workflows:${other}`] } },
      overlap: 'allow',
    });
    await put('tick', onSuccessOf('tock'));
    await put('tock', onSuccessOf('tick'));
    await settle();

    const first = await t.call('POST', '/api/v1/workflows/tick/runs', {});
    assert.equal(first.status, 201);
    const [skipped] = await skippedFor('tick');
    assert.equal(skipped.value.reason, 'loop');
    const maxHops = skipped.value.maxHops as number;
    const runs = await allFinished(['tick', 'tock']);
    // The manual run, then one event-triggered run per hop up to the limit.
    assert.equal(runs.length, maxHops + 1, JSON.stringify(runs.map((r) => [r.workflow, r.trigger])));
    assert.deepEqual(
      runs
        .filter((r) => r.trigger.type === 'event')
        .map((r) => r.trigger.hops ?? 0)
        .sort((a, b) => a - b),
      Array.from({ length: maxHops }, (_, i) => i + 1),
    );
  });
});
