import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

/**
 * Issue 9, class 5: a workflow whose runs keep killing their sandbox process (here: past the
 * per-process memory cap, which is quick; a V8 abort counts the same) is quarantined after
 * VEER_SANDBOX_QUARANTINE_CRASHES (default 3) kills: its runs then fail at once with
 * SANDBOX.QUARANTINED, `workflow.quarantined` is announced once, other workflows run on, and
 * uploading a new version releases it.
 */
describe('quarantine of a workflow that keeps crashing its sandbox process', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ env: { VEER_SANDBOX_PROCESSES: '1', VEER_ENGINE_CONCURRENCY: '1', VEER_SANDBOX_CHILD_MEMORY_MB: '160' } });
  });
  after(() => t.stop());

  const HOG = `export default async function (ctx) {
    const keep = [];
    for (let i = 0; i < 24; i++) keep.push(new Array(1 << 20).fill(i + 0.5));
    await ctx.sleep(60000);
    return keep.length;
  }`;

  const runToEnd = async (workflow: string) => {
    const started = await t.call('POST', `/api/v1/workflows/${workflow}/runs`, {});
    assert.equal(started.status, 201, JSON.stringify(started.body));
    return workflowCalls(() => t).finished(started.body.id);
  };

  it('fails fast once quarantined, says why, and a new version runs again', async () => {
    const put = await t.call('PUT', '/api/v1/workflows/hog', { script: HOG, limits: { timeoutMs: 90_000, memoryMb: 256 } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    await t.call('PUT', '/api/v1/workflows/neighbour', { script: 'export default async () => "fine"' });

    for (let i = 1; i <= 3; i++) {
      const run = await runToEnd('hog');
      assert.equal(run.status, 'failed');
      assert.equal(run.error.code, 'SANDBOX.MEMORY', `crash ${i}`);
    }

    const blocked = await runToEnd('hog');
    assert.equal(blocked.status, 'failed');
    assert.equal(blocked.error.code, 'SANDBOX.QUARANTINED');
    assert.match(blocked.error.message, /version 1 is quarantined/);
    assert.match(blocked.error.message, /killed their sandbox process 3 times/);
    assert.match(blocked.error.message, /Upload a new version/);
    assert.equal(blocked.attempts, 1, 'no free re-run and no retry for a quarantined run');

    const events = await waitFor(
      async () => {
        const r = await t.call('GET', '/api/v1/events?type=workflow.quarantined');
        return r.body?.events?.length > 0 && r.body.events;
      },
      { what: 'the workflow.quarantined event' },
    );
    assert.equal(events.length, 1, 'announced once');
    assert.equal(events[0].value.workflow, 'hog');
    assert.equal(events[0].value.version, 1);
    assert.ok(events[0].tags.includes('workflows:hog'));

    const shown = await t.call('GET', '/api/v1/workflows/hog');
    assert.equal(shown.body.quarantined?.version, 1, 'the workflow shows its quarantine');
    assert.match(shown.body.quarantined.reason, /killed their sandbox process 3 times/);

    assert.equal((await runToEnd('neighbour')).result, 'fine', 'other workflows are not affected');

    const fixed = await t.call('PUT', '/api/v1/workflows/hog', { script: 'export default async () => "smaller now"' });
    assert.equal(fixed.status, 200);
    const released = await runToEnd('hog');
    assert.equal(released.status, 'succeeded', JSON.stringify(released.error));
    assert.equal(released.result, 'smaller now');
    assert.equal((await t.call('GET', '/api/v1/workflows/hog')).body.quarantined, undefined, 'the new version is not quarantined');
  });
});
