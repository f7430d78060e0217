import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

const WAIT = { timeoutMs: 30_000, intervalMs: 25 };

/**
 * Events must not be a confused deputy: who published an event is stamped by the host from
 * the path it came in by (never taken from the event), the tags and types that name Veer's
 * own resources and lifecycle are Veer's alone, and a trigger may accept only some sources —
 * so a script without permissions cannot make a hook that holds permissions act for it.
 */
describe('event provenance and reserved tags', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ env: { VEER_EVENTS_TRIGGER_REFRESH_MS: '100' } });
  });
  after(() => t.stop());

  const { put, run, runsOf } = workflowCalls(() => t);

  const post = (body: unknown) => t.call('POST', '/api/v1/events', body);
  /**
   * Events are dispatched in order, with the workflow list the dispatcher last read: once a
   * sentinel reaches a probe put just now, every workflow put before is known and every event
   * stored before the sentinel was considered.
   */
  let probes = 0;
  const settle = async () => {
    const name = `probe-${++probes}`;
    await put(name, { script: 'export default async function (ctx) { return ctx.input.id }', trigger: { events: { tags: [`sentinel:${name}`] } } });
    await waitFor(
      async () => {
        if ((await runsOf(name)).length > 0) return true;
        assert.equal((await post({ tags: [`sentinel:${name}`] })).status, 201);
        return false;
      },
      { ...WAIT, intervalMs: 100, what: `a sentinel to reach ${name}` },
    );
  };

  it('stamps the source from the path: api posts are `api`, script emits `workflow:<name>/<run>`, run events `veer`; a claimed source is refused', async () => {
    const posted = await post({ tags: ['notes:api'], value: 1 });
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    assert.equal(posted.body.source, 'api');
    assert.equal(posted.body.hops, 0);

    for (const claim of [{ source: 'veer' }, { hops: 0 }]) {
      const r = await post({ tags: ['notes'], ...claim });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.code, 'VALIDATION');
      assert.equal(r.body.details.issues[0].path, Object.keys(claim)[0]);
    }

    await put('scribe', {
      script: `export default async function (ctx) {
        const mine = await ctx.events.emit({ tags: ['notes'], type: 'note', value: 'hi' });
        let claimed;
        try { await ctx.events.emit({ tags: ['notes'], source: 'veer' }); claimed = 'accepted'; } catch (e) { claimed = e.code; }
        return { mine, claimed };
      }`,
    });
    const r = await run('scribe');
    assert.equal(r.status, 'succeeded', JSON.stringify(r.error));
    assert.equal(r.result.mine.source, `workflow:scribe/${r.id}`);
    assert.equal(r.result.mine.hops, 1, 'one hop from a manual run');
    assert.ok(r.result.mine.tags.includes('workflows:scribe'), 'the host tags it with its workflow');
    assert.equal(r.result.claimed, 'VALIDATION');

    const lifecycle = await waitFor(async () => (await t.call('GET', `/api/v1/events?tag=workflows:scribe&type=run.succeeded`)).body.events[0], {
      ...WAIT,
      what: 'run.succeeded of scribe',
    });
    assert.equal(lifecycle.source, 'veer');
  });

  it('refuses the tags and types reserved for Veer, from the API (403 PERMISSION) and from scripts (PermissionError), naming them', async () => {
    const reserved: Array<[Record<string, unknown>, string]> = [
      [{ tags: ['gateways:shop'] }, 'gateways:shop'],
      [{ tags: ['alerts', 'workflows:ghost'] }, 'workflows:ghost'],
      [{ tags: ['runs:failed'] }, 'runs:failed'],
      [{ tags: ['deployments'] }, 'deployments'],
      [{ tags: ['alerts'], type: 'run.failed' }, 'run.failed'],
      [{ tags: ['alerts'], type: 'gateway.weights' }, 'gateway.weights'],
      [{ tags: ['alerts'], type: 'deployment.scaled' }, 'deployment.scaled'],
      [{ tags: ['alerts'], type: 'workflow.updated' }, 'workflow.updated'],
      [{ tags: ['alerts'], type: 'trigger.skipped' }, 'trigger.skipped'],
    ];
    for (const [body, named] of reserved) {
      const r = await post(body);
      assert.equal(r.status, 403, JSON.stringify(body));
      assert.equal(r.body.code, 'PERMISSION');
      assert.ok(r.body.message.includes(named), r.body.message);
    }
    await put('impostor', {
      script: `export default async function (ctx) {
        const out = [];
        for (const e of ${JSON.stringify(reserved.map(([b]) => b))}) {
          try { await ctx.events.emit(e); out.push('accepted'); } catch (err) { out.push(err.code + ': ' + err.message); }
        }
        return out;
      }`,
    });
    const r = await run('impostor');
    assert.equal(r.status, 'succeeded', JSON.stringify(r.error));
    reserved.forEach(([, named], i) => {
      assert.ok(r.result[i].startsWith('PERMISSION: '), r.result[i]);
      assert.ok(r.result[i].includes(named), r.result[i]);
    });
    const stored = (await t.call('GET', '/api/v1/events?tag=workflows:impostor&limit=100')).body.events as any[];
    assert.deepEqual(
      stored.filter((e) => e.source !== 'veer'),
      [],
      'nothing the impostor tried was stored',
    );
  });

  it('a run.failed for a workflow that never existed cannot be forged: only a real failure starts the hook', async () => {
    await put('on-failure', {
      script: 'export default async function (ctx) { return { workflow: ctx.input.value.workflow, source: ctx.input.source } }',
      trigger: { events: { type: 'run.failed' } },
      overlap: 'allow',
    });
    await settle();
    const forged = await post({ tags: ['runs', 'workflows:ghost'], type: 'run.failed', value: { workflow: 'ghost', status: 'failed' } });
    assert.equal(forged.status, 403);
    await put('forger', {
      script: `export default async function (ctx) {
        try { await ctx.events.emit({ tags: ['runs:failed'], type: 'run.failed', value: { workflow: 'ghost' } }); return 'accepted' } catch (e) { return e.code }
      }`,
    });
    assert.equal((await run('forger')).result, 'PERMISSION');

    await put('breaks', { script: 'export default async function () { throw new Error("boom") }' });
    const failed = await run('breaks');
    assert.equal(failed.status, 'failed');
    const hooked = await waitFor(async () => (await runsOf('on-failure')).find((x) => x.status === 'succeeded' && x.result.workflow === 'breaks'), {
      ...WAIT,
      what: 'the hook run for the real failure',
    });
    assert.equal(hooked.result.source, 'veer');
    assert.deepEqual(
      (await runsOf('on-failure')).filter((x) => x.input?.value?.workflow === 'ghost'),
      [],
      'no run for the forged failure',
    );
  });

  it('the rollback hook (template) is not triggered by a script emitting `alerts`, but is by an alert posted to the API', async () => {
    const gw = await t.call('PUT', '/api/v1/gateways/shop', {
      port: 19_391,
      routes: { stable: { weight: 50, targets: [{ host: '127.0.0.1', port: 9 }] }, canary: { weight: 50, targets: [{ host: '127.0.0.1', port: 9 }] } },
    });
    assert.ok(gw.status === 200 || gw.status === 201, JSON.stringify(gw.body));
    const weights = async () =>
      Object.fromEntries(Object.entries((await t.call('GET', '/api/v1/gateways/shop')).body.routes).map(([k, v]: [string, any]) => [k, v.weight]));

    const tpl = await t.call('GET', '/api/v1/templates/rollback-hook');
    assert.equal(tpl.status, 200);
    await put('rollback-hook', tpl.body.workflow);
    await put('noisy', {
      script: `export default async function (ctx) { return (await ctx.events.emit({ tags: ['alerts'], type: 'alert', value: { why: '5xx' } })).id }`,
    });
    await settle();

    const noisy = await run('noisy');
    assert.equal(noisy.status, 'succeeded', 'emitting alerts is allowed; acting on them is the question');
    await settle(); // the script's alert has been dispatched
    assert.deepEqual(await runsOf('rollback-hook'), [], "the script's alert did not start the hook");
    assert.deepEqual(await weights(), { stable: 50, canary: 50 });

    const alert = await post({ tags: ['alerts'], type: 'alert', value: { why: '5xx' } });
    assert.equal(alert.status, 201);
    const hooked = await waitFor(async () => (await runsOf('rollback-hook')).find((x) => x.status === 'succeeded'), { ...WAIT, what: 'the rollback run' });
    assert.equal(hooked.trigger.eventId, alert.body.id);
    assert.deepEqual(await weights(), { stable: 100, canary: 0 });
  });

  it('validates trigger sources and event grants at upload, naming the field', async () => {
    for (const [spec, path] of [
      [{ trigger: { events: { tags: ['a'], sources: ['API'] } } }, 'trigger.events.sources.0'],
      [{ trigger: { events: { tags: ['a'], sources: [] } } }, 'trigger.events.sources'],
      [{ permissions: { events: ['no spaces allowed'] } }, 'permissions.events.0'],
    ] as const) {
      const r = await t.call('PUT', '/api/v1/workflows/badly', { script: 'export default async function () {}', ...spec });
      assert.equal(r.status, 400, JSON.stringify(spec));
      assert.ok(
        r.body.details.issues.some((i: { path: string }) => i.path === path),
        JSON.stringify(r.body.details.issues),
      );
    }
  });
});
