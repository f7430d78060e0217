import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SIGNAL_INBOX_MAX } from '../../engine/domain/signal.ts';
import { createSignalService } from '../../engine/runs/signal-service.ts';
import type { VeerError } from '../../engine/shared/errors.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

const script = 'export default async function () { return 1 }';
// Takes a promote (if any) and returns what it got, so the test sees the signal reach the run.
const taker = "export default async function (ctx) { const s = await ctx.signals.take('promote'); return s ? { name: s.name, value: s.value } : null }";

describe('signals API', () => {
  let t: TestSystem;
  const wf = workflowCalls(() => t);
  before(async () => {
    t = await startTestSystem({ engine: true });
  });
  after(() => t.stop());

  it('stores a signal, lists pending ones oldest first and announces each as workflow.signal', async () => {
    await wf.put('gate', { script });
    const first = await t.call('POST', '/api/v1/workflows/gate/signals', { name: 'promote', value: { step: 2 } });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.signal.name, 'promote');
    assert.deepEqual(first.body.signal.value, { step: 2 });
    assert.equal(first.body.signal.sentBy, 'anonymous');
    assert.ok(first.body.signal.id && first.body.signal.sentAt);
    assert.equal('run' in first.body, false, 'no run starts without trigger.signals');
    const second = await t.call('POST', '/api/v1/workflows/gate/signals', { name: 'abort' });
    assert.equal(second.status, 201);
    assert.equal(second.body.signal.value, null, 'an absent value is null');

    const pending = await t.call('GET', '/api/v1/workflows/gate/signals');
    assert.equal(pending.status, 200);
    assert.deepEqual(
      pending.body.signals.map((s: { id: string }) => s.id),
      [first.body.signal.id, second.body.signal.id],
    );

    const events = await t.call('GET', '/api/v1/events?type=workflow.signal&tag=workflows:gate&order=asc');
    assert.equal(events.status, 200);
    assert.deepEqual(
      events.body.events.map((e: { value: { signal: { id: string; name: string } } }) => [e.value.signal.id, e.value.signal.name]),
      [
        [first.body.signal.id, 'promote'],
        [second.body.signal.id, 'abort'],
      ],
    );
    const announced = events.body.events[0];
    assert.equal(announced.source, 'veer');
    assert.ok(announced.tags.includes('signals'));
    assert.equal(announced.value.workflow, 'gate');
    assert.equal(announced.value.signal.sentBy, 'anonymous');
    assert.equal('value' in announced.value.signal, false, 'the value stays in the inbox, not in the event stream');
  });

  it('answers 400 naming the field at fault', async () => {
    await wf.put('strict', { script });
    const cases: Array<[unknown, string]> = [
      [{}, 'name'],
      [{ value: 1 }, 'name'],
      [{ name: 'Promote!' }, 'name'],
      [{ name: 'promote', value: 'x'.repeat(70 * 1024) }, 'value'],
    ];
    for (const [body, field] of cases) {
      const res = await t.call('POST', '/api/v1/workflows/strict/signals', body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(res.body.code, 'VALIDATION');
      assert.ok(
        res.body.details.issues.some((i: { path: string }) => i.path === field),
        `${JSON.stringify(res.body.details.issues)} names ${field}`,
      );
    }
    assert.equal((await t.call('POST', '/api/v1/workflows/strict/signals', { name: 'promote', extra: true })).status, 400);
    assert.deepEqual((await t.call('GET', '/api/v1/workflows/strict/signals')).body.signals, [], 'nothing was stored');
  });

  it('answers 404 for an unknown workflow and 409 WORKFLOW.DELETED for a deleted one', async () => {
    const unknown = await t.call('POST', '/api/v1/workflows/nobody/signals', { name: 'promote' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'NOT_FOUND');
    assert.equal((await t.call('GET', '/api/v1/workflows/nobody/signals')).status, 404);

    await wf.put('retired', { script });
    assert.equal((await t.call('DELETE', '/api/v1/workflows/retired')).status, 204);
    const late = await t.call('POST', '/api/v1/workflows/retired/signals', { name: 'promote' });
    assert.equal(late.status, 409);
    assert.equal(late.body.code, 'WORKFLOW.DELETED');
    assert.match(late.body.message, /deleted/);
    assert.equal((await t.call('GET', '/api/v1/workflows/retired/signals')).status, 404);
  });

  it('answers WORKFLOW.DELETED when the workflow is deleted while the signal is being stored', async () => {
    await wf.put('racing', { script });
    const stores = t.system.stores;
    // The delete lands between the service's look-up and the store's write, which checks atomically.
    const signals = {
      ...stores.signals,
      send: async (...args: Parameters<typeof stores.signals.send>) => (await stores.workflows.delete('racing'), stores.signals.send(...args)),
    };
    const service = createSignalService({ workflows: stores.workflows, signals, launcher: stores.launcher, emit: t.system.emit });
    await assert.rejects(service.send('racing', { name: 'promote' }, 'test'), (err: VeerError) => err.code === 'WORKFLOW.DELETED');
    const events = await t.call('GET', '/api/v1/events?type=workflow.signal&tag=workflows:racing');
    assert.deepEqual(events.body.events, [], 'nothing announced for a signal that was not stored');
  });

  it('refuses a signal past a full inbox with 409 SIGNAL.INBOX_FULL', async () => {
    await wf.put('flooded', { script });
    // Filled through the store: a thousand HTTP posts would only make the test slow.
    for (let i = 0; i < SIGNAL_INBOX_MAX; i++) await t.system.stores.signals.send('flooded', { name: 'tick', value: i, sentBy: 'test' });
    const res = await t.call('POST', '/api/v1/workflows/flooded/signals', { name: 'promote' });
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'SIGNAL.INBOX_FULL');
    assert.equal((await t.call('GET', '/api/v1/workflows/flooded/signals')).body.signals.length, SIGNAL_INBOX_MAX);
  });

  it('starts a run at once with trigger.signals: true, and the run takes the signal', async () => {
    await wf.put('eager', { script: taker, trigger: { signals: true } });
    const res = await t.call('POST', '/api/v1/workflows/eager/signals', { name: 'promote', value: 'now' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.ok(res.body.run?.id, 'the run it started');
    assert.deepEqual(res.body.run.trigger, { type: 'signal', signalId: res.body.signal.id, name: 'promote' });
    const run = await wf.finished(res.body.run.id);
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    assert.deepEqual(run.result, { name: 'promote', value: 'now' });
    assert.deepEqual((await t.call('GET', '/api/v1/workflows/eager/signals')).body.signals, [], 'taken by a run that succeeded: gone');
  });

  it('also starts one on a cron workflow with signals: true', async () => {
    await wf.put('ticking', { script: taker, trigger: { cron: '0 0 1 1 *', signals: true } });
    const res = await t.call('POST', '/api/v1/workflows/ticking/signals', { name: 'promote' });
    assert.equal(res.status, 201);
    assert.equal(res.body.run?.trigger?.type, 'signal');
    assert.equal((await wf.finished(res.body.run.id)).status, 'succeeded');
  });

  it('says why no run started (paused) and keeps the signal for a later run', async () => {
    await wf.put('held', { script: taker, trigger: { signals: true } });
    await t.system.stores.workflows.setPaused('held', { by: 'test', at: new Date().toISOString() });
    const res = await t.call('POST', '/api/v1/workflows/held/signals', { name: 'promote' });
    assert.equal(res.status, 201);
    assert.equal(res.body.run, null);
    assert.equal(res.body.skipped, 'paused');
    const pending = await t.call('GET', '/api/v1/workflows/held/signals');
    assert.deepEqual(
      pending.body.signals.map((s: { id: string }) => s.id),
      [res.body.signal.id],
    );
  });
});
