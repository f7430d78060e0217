import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startEngineProcess } from '../helpers/engine-process.ts';
import type { ServiceProcess } from '../helpers/process.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { cleanup } from './support.ts';

const WAIT = { timeoutMs: 30_000, intervalMs: 50 };

/**
 * Event triggers across real engine processes: an event starts exactly one run with the event
 * as ctx.input; an event posted while no engine runs is dispatched by the next engine that
 * starts, and nothing already dispatched runs again; an event a script emits triggers another
 * workflow.
 */
test('event triggers survive an engine restart and fire on script-emitted events', async () => {
  let t: TestSystem | undefined;
  const engines: ServiceProcess[] = [];
  try {
    t = await startTestSystem({ engine: false });
    const sys = t;
    const env = { ...t.env, VEER_SHUTDOWN_GRACE_MS: '2000', VEER_EVENTS_TRIGGER_REFRESH_MS: '200' };
    const ok = (r: { status: number; body: unknown }) => assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));

    ok(
      await t.call('PUT', '/api/v1/workflows/on-deploy', {
        script: 'export default async function (ctx) { ctx.log.info("deploy event", { id: ctx.input.id }); return ctx.input }',
        trigger: { events: { tags: ['deploy'] } },
        overlap: 'allow',
      }),
    );
    ok(
      await t.call('PUT', '/api/v1/workflows/emitter', {
        script:
          'export default async function (ctx) { await ctx.events.emit({ tags: ["chain"], type: "chain.link", value: { from: ctx.run.id } }); return "emitted" }',
      }),
    );
    ok(
      await t.call('PUT', '/api/v1/workflows/listener', {
        script: 'export default async function (ctx) { return { tags: ctx.input.tags, type: ctx.input.type, value: ctx.input.value, id: ctx.input.id } }',
        trigger: { events: { tags: ['chain'] } },
      }),
    );

    const runs = async (name: string) =>
      (await sys.call('GET', `/api/v1/workflows/${name}/runs?limit=100`)).body.runs as Array<{
        id: string;
        status: string;
        input: any;
        result: any;
        trigger: any;
      }>;
    const post = async (value: unknown) => {
      const r = await sys.call('POST', '/api/v1/events', { tags: ['deploy', 'services:shop'], type: 'deploy', value });
      ok(r);
      assert.ok(r.body.id, 'the stored event has an id');
      return r.body as { id: string; tags: string[]; type: string; value: unknown };
    };
    const ranFor = async (eventId: string) => (await runs('on-deploy')).filter((r) => r.trigger?.type === 'event' && r.trigger.eventId === eventId);
    const finished = (eventId: string) =>
      waitFor(
        async () => {
          const rs = await ranFor(eventId);
          return rs.length > 0 && rs.every((r) => r.status === 'succeeded') && rs;
        },
        { ...WAIT, what: `the run for event ${eventId}` },
      );
    const checkpoint = t.keys.dispatcherCheckpoint;

    // 1. One engine process: an event starts exactly one run, with the event as ctx.input.
    const first = startEngineProcess(env);
    engines.push(first);
    await waitFor(
      async () => {
        if (first.child.exitCode !== null) throw new Error(`engine exited: ${first.output()}`);
        return (await sys.redisClient.exists(checkpoint)) === 1;
      },
      { ...WAIT, what: 'the engine’s event dispatcher to start' },
    );
    const e1 = await post({ version: 'v1' });
    const [r1] = await finished(e1.id);
    assert.equal(r1.result.id, e1.id);
    assert.deepEqual(r1.result.value, { version: 'v1' });
    assert.deepEqual(r1.input, r1.result, 'ctx.input is the event');
    assert.deepEqual(r1.result.tags, e1.tags);

    // 2. A script's ctx.events.emit triggers another workflow (with the event as its input).
    const emitted = await t.call('POST', '/api/v1/workflows/emitter/runs?wait=true', {});
    assert.equal(emitted.body.status, 'succeeded', JSON.stringify(emitted.body.error));
    const [heard] = await waitFor(
      async () => {
        const rs = await runs('listener');
        return rs.length > 0 && rs.every((r) => r.status === 'succeeded') && rs;
      },
      { ...WAIT, what: 'the listener run triggered by the emitted event' },
    );
    assert.equal(heard.trigger.type, 'event');
    assert.equal(heard.result.type, 'chain.link');
    assert.deepEqual(heard.result.value, { from: emitted.body.id });
    assert.ok(heard.result.tags.includes('chain'));
    assert.ok(heard.result.tags.includes('workflows:emitter'), 'script events are tagged with their workflow');
    assert.equal(heard.trigger.eventId, heard.result.id);

    // 3. Stop the engine; an event posted while no engine runs waits for the next one.
    await first.stop('SIGTERM');
    assert.equal(first.child.exitCode, 0, first.output());
    const e2 = await post({ version: 'v2' });
    assert.deepEqual(await ranFor(e2.id), [], 'no engine, no run yet');

    const second = startEngineProcess(env);
    engines.push(second);
    const [r2] = await finished(e2.id);
    assert.deepEqual(r2.result.value, { version: 'v2' });
    assert.equal(r2.input.id, e2.id);

    // A later event, dispatched after everything before it (the stream is read in order):
    // once its run exists, any re-dispatch of e1 or e2 would have happened.
    const e3 = await post({ version: 'v3' });
    await finished(e3.id);
    const all = await runs('on-deploy');
    const byEvent = all.map((r) => r.trigger?.eventId).sort();
    assert.deepEqual(byEvent, [e1.id, e2.id, e3.id].sort(), 'exactly one run per event; the first event did not run again');
    assert.equal((await runs('listener')).length, 1, 'the emitted event triggered the listener once');
    await second.stop('SIGTERM');
    assert.equal(second.child.exitCode, 0, second.output());
  } finally {
    await cleanup([...engines.map((e) => () => e.stop('SIGKILL')), t?.stop]);
  }
});
