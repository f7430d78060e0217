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

  it('a loop through the gateway changes two workflows make on each other ends the same way', async () => {
    const routes = { a: { weight: 100, targets: [{ host: '127.0.0.1', port: 9001 }] }, b: { weight: 0, targets: [{ host: '127.0.0.1', port: 9002 }] } };
    for (const [gw, port] of [
      ['east', 18081],
      ['west', 18082],
    ] as const) {
      const r = await t.call('PUT', `/api/v1/gateways/${gw}`, { port, routes });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    // Each flips the other's gateway whenever its own changed: every flip is a new gateway.weights event.
    const flipper = (own: string, other: string) => ({
      script: `export default async function (ctx) {
        const g = await ctx.gateways.get('${other}');
        const a = g.routes.a.weight === 100 ? 0 : 100;
        await ctx.gateways.setWeights('${other}', { a, b: 100 - a });
        return ctx.run.trigger;
      }`,
      trigger: { events: { type: 'gateway.weights', tags: [`gateways:${own}`], sources: ['veer'] } },
      permissions: { gateways: [other] },
      overlap: 'allow',
    });
    await put('east-watcher', flipper('east', 'west'));
    await put('west-watcher', flipper('west', 'east'));
    await settle();

    // A person moves east's traffic: the watchers now change each other's gateways, each change one hop further.
    const moved = await t.call('PUT', '/api/v1/gateways/east/weights', { a: 0, b: 100 });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const skipped = await waitFor(
      async () => {
        const events = (await t.call('GET', '/api/v1/events?type=trigger.skipped')).body.events as any[];
        const loop = events.filter((e) => e.value.workflow === 'east-watcher' || e.value.workflow === 'west-watcher');
        return loop.length > 0 && loop;
      },
      { ...WAIT, what: 'trigger.skipped for a watcher' },
    );
    assert.equal(skipped[0].value.reason, 'loop');
    const maxHops = skipped[0].value.maxHops as number;
    const runs = await allFinished(['east-watcher', 'west-watcher']);
    assert.equal(runs.length, maxHops + 1, JSON.stringify(runs.map((r) => [r.workflow, r.trigger])));
  });
});
