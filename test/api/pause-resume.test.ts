import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

const script = 'export default async function () { return 1 }';

describe('pause and resume API', () => {
  let t: TestSystem;
  const wf = workflowCalls(() => t);
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(() => t.stop());

  const eventsOf = async (type: string, name: string) =>
    (await t.call('GET', `/api/v1/events?type=${type}&tag=workflows:${name}&order=asc`)).body.events as Array<{ value: Record<string, unknown> }>;

  it('pauses without a new version, shows who paused it and when, and resumes', async () => {
    await wf.put('canary', { script, trigger: { cron: '*/5 * * * *' } });
    const paused = await t.call('POST', '/api/v1/workflows/canary/pause', { reason: 'incident 42' });
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    assert.equal(paused.body.paused.by, 'anonymous');
    assert.equal(paused.body.paused.reason, 'incident 42');
    assert.ok(!Number.isNaN(Date.parse(paused.body.paused.at)));
    assert.equal(paused.body.version, 1, 'no new version');
    assert.equal(paused.body.compiled, undefined);

    const shown = await t.call('GET', '/api/v1/workflows/canary');
    assert.deepEqual(shown.body.paused, paused.body.paused);
    const listed = (await t.call('GET', '/api/v1/workflows')).body.workflows.find((w: { name: string }) => w.name === 'canary');
    assert.deepEqual(listed.paused, paused.body.paused);
    assert.deepEqual((await t.call('GET', '/api/v1/workflows/canary/versions')).body.versions.length, 1);

    const resumed = await t.call('POST', '/api/v1/workflows/canary/resume');
    assert.equal(resumed.status, 200);
    assert.equal(resumed.body.paused, undefined);
    assert.equal((await t.call('GET', '/api/v1/workflows/canary')).body.paused, undefined);

    const [pausedEvent] = await eventsOf('workflow.paused', 'canary');
    assert.equal(pausedEvent.value.workflow, 'canary');
    assert.equal(pausedEvent.value.by, 'anonymous');
    assert.equal(pausedEvent.value.reason, 'incident 42');
    const [resumedEvent] = await eventsOf('workflow.resumed', 'canary');
    assert.equal(resumedEvent.value.workflow, 'canary');
    assert.equal(resumedEvent.value.pausedSince, paused.body.paused.at);
  });

  it('is idempotent: pausing again keeps the first pause, resuming a running workflow changes nothing', async () => {
    await wf.put('twice', { script });
    const first = await t.call('POST', '/api/v1/workflows/twice/pause');
    assert.equal(first.status, 200, 'the body is optional');
    assert.equal(first.body.paused.reason, undefined);
    const again = await t.call('POST', '/api/v1/workflows/twice/pause', { reason: 'later' });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.paused, first.body.paused, 'who paused it first, and since when');
    assert.equal((await eventsOf('workflow.paused', 'twice')).length, 1);

    assert.equal((await t.call('POST', '/api/v1/workflows/twice/resume')).status, 200);
    const noop = await t.call('POST', '/api/v1/workflows/twice/resume');
    assert.equal(noop.status, 200);
    assert.equal(noop.body.paused, undefined);
    assert.equal((await eventsOf('workflow.resumed', 'twice')).length, 1);
  });

  it('keeps a workflow paused across a new version', async () => {
    await wf.put('sticky', { script });
    const paused = await t.call('POST', '/api/v1/workflows/sticky/pause', { reason: 'hold' });
    await wf.put('sticky', { script: script.replace('1', '2') });
    const shown = await t.call('GET', '/api/v1/workflows/sticky');
    assert.equal(shown.body.version, 2);
    assert.deepEqual(shown.body.paused, paused.body.paused);
  });

  it('still starts manual runs while paused, and refuses triggers (recorded as skipped: paused)', async () => {
    await wf.put('gated', { script, trigger: { signals: true } });
    assert.equal((await t.call('POST', '/api/v1/workflows/gated/pause')).status, 200);
    const manual = await t.call('POST', '/api/v1/workflows/gated/runs', {});
    assert.equal(manual.status, 201, JSON.stringify(manual.body));
    assert.equal(manual.body.trigger.type, 'manual');

    const signalled = await t.call('POST', '/api/v1/workflows/gated/signals', { name: 'promote' });
    assert.equal(signalled.status, 201);
    assert.equal(signalled.body.run, null);
    assert.equal(signalled.body.skipped, 'paused');
    const history = await t.call('GET', '/api/v1/workflows/gated/triggers');
    assert.equal(history.status, 200);
    assert.ok(
      history.body.entries.some(
        (e: { trigger: string; outcome: string; reason?: string; signalId?: string }) =>
          e.trigger === 'signal' && e.outcome === 'skipped' && e.reason === 'paused' && e.signalId === signalled.body.signal.id,
      ),
      JSON.stringify(history.body.entries),
    );

    assert.equal((await t.call('POST', '/api/v1/workflows/gated/resume')).status, 200);
    const after = await t.call('POST', '/api/v1/workflows/gated/signals', { name: 'promote' });
    assert.equal(after.status, 201);
    assert.equal(after.body.run?.trigger?.type, 'signal', 'triggers start runs again');
  });

  it('answers 404 for an unknown workflow and 400 naming the field for a bad body', async () => {
    for (const action of ['pause', 'resume']) {
      const res = await t.call('POST', `/api/v1/workflows/nobody/${action}`, {});
      assert.equal(res.status, 404, action);
      assert.equal(res.body.code, 'NOT_FOUND');
    }
    await wf.put('picky', { script });
    for (const [body, field] of [
      [{ reason: 'x'.repeat(501) }, 'reason'],
      [{ reason: 42 }, 'reason'],
    ] as const) {
      const res = await t.call('POST', '/api/v1/workflows/picky/pause', body);
      assert.equal(res.status, 400);
      assert.ok(
        res.body.details.issues.some((i: { path: string }) => i.path === field),
        JSON.stringify(res.body.details),
      );
    }
    assert.equal((await t.call('POST', '/api/v1/workflows/picky/pause', { until: 'tomorrow' })).status, 400, 'unknown fields are refused');
    assert.equal((await t.call('GET', '/api/v1/workflows/picky')).body.paused, undefined, 'a refused pause pauses nothing');
  });
});
