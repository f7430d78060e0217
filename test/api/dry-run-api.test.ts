import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

// Writes state and takes a signal: both are effects a dry run records and does not apply.
const script = `export default async function (ctx) {
  await ctx.state.set('step', 3);
  const s = await ctx.signals.take('promote');
  return { promoted: !!s };
}`;

describe('dry runs through the runs API', () => {
  let t: TestSystem;
  const wf = workflowCalls(() => t);
  before(async () => {
    t = await startTestSystem({ engine: true });
  });
  after(() => t.stop());

  it('answers 201 with a run marked dryRun, whose result lists the effects it did not apply', async () => {
    await wf.put('rehearse', { script });
    assert.equal((await t.call('PUT', '/api/v1/workflows/rehearse/state/step', 1)).status, 200);
    assert.equal((await t.call('POST', '/api/v1/workflows/rehearse/signals', { name: 'promote' })).status, 201);

    const queued = await t.call('POST', '/api/v1/workflows/rehearse/runs', { dryRun: true });
    assert.equal(queued.status, 201, JSON.stringify(queued.body));
    assert.equal(queued.body.dryRun, true);
    assert.equal(queued.body.trigger.type, 'manual');

    const run = await wf.finished(queued.body.id);
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    assert.equal(run.dryRun, true);
    assert.deepEqual(run.result.value, { promoted: true }, 'reads are real: the pending signal was seen');
    const byCapability = Object.fromEntries(run.result.effects.map((e: { capability: string }) => [e.capability, e]));
    assert.deepEqual(byCapability['state.set'], { capability: 'state.set', target: 'step', before: 1, after: 3 });
    assert.equal(byCapability['signals.take']?.target, 'promote');

    assert.deepEqual((await t.call('GET', '/api/v1/workflows/rehearse/state')).body.state, { step: 1 }, 'state unchanged');
    assert.equal((await t.call('GET', '/api/v1/workflows/rehearse/signals')).body.signals.length, 1, 'the signal is still pending');
  });

  it('starts an ordinary run when dryRun is false or absent', async () => {
    await wf.put('plain', { script: 'export default async function () { return 1 }' });
    for (const body of [{ dryRun: false }, {}]) {
      const res = await t.call('POST', '/api/v1/workflows/plain/runs?wait=true', body);
      assert.equal(res.status, 201);
      assert.equal(res.body.dryRun, undefined);
      assert.equal(res.body.result, 1);
    }
  });

  it('answers 400 naming the field for a bad body, 404 for an unknown workflow', async () => {
    await wf.put('strict', { script });
    for (const body of [{ dryRun: 'yes' }, { dryRun: 1 }]) {
      const res = await t.call('POST', '/api/v1/workflows/strict/runs', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.code, 'VALIDATION');
      assert.ok(
        res.body.details.issues.some((i: { path: string }) => i.path === 'dryRun'),
        JSON.stringify(res.body.details),
      );
    }
    assert.equal((await t.call('POST', '/api/v1/workflows/strict/runs', { dry: true })).status, 400, 'a misspelt field is refused, not ignored');
    assert.deepEqual(await wf.runsOf('strict'), [], 'no run was started');
    const unknown = await t.call('POST', '/api/v1/workflows/nobody/runs', { dryRun: true });
    assert.equal(unknown.status, 404);
  });
});
