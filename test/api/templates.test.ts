import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

describe('built-in workflow templates', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(() => t.stop());

  it('lists the built-in scripts, and each one uploads as a valid workflow', async () => {
    const list = await t.call('GET', '/api/v1/templates');
    assert.equal(list.status, 200);
    const names = list.body.templates.map((x: { name: string }) => x.name).sort();
    assert.deepEqual(names, ['canary-release', 'cron-autoscaler', 'health-metrics', 'rollback-hook']);
    for (const name of names) {
      const tpl = await t.call('GET', `/api/v1/templates/${name}`);
      assert.equal(tpl.status, 200);
      const put = await t.call('PUT', `/api/v1/workflows/${name}`, tpl.body.workflow);
      assert.equal(put.status, 200, `${name}: ${JSON.stringify(put.body)}`);
    }
    assert.equal((await t.call('GET', '/api/v1/templates/nope')).status, 404);
  });
});

describe('cancelling a queued run', () => {
  let t: TestSystem;
  before(async () => {
    // No engine: runs stay queued.
    t = await startTestSystem({ engine: false });
  });
  after(() => t.stop());

  it('removes it from the queue and marks it cancelled at once', async () => {
    await t.call('PUT', '/api/v1/workflows/waiting', { script: 'export default async function () { return 1 }' });
    const run = await t.call('POST', '/api/v1/workflows/waiting/runs', { input: { a: 1 } });
    assert.equal(run.status, 201);
    assert.equal(run.body.status, 'queued');
    assert.deepEqual(run.body.input, { a: 1 });
    const cancelled = await t.call('POST', `/api/v1/runs/${run.body.id}/cancel`);
    assert.equal(cancelled.status, 202);
    assert.equal(cancelled.body.status, 'cancelled');
    const counts = await t.system.stores.queue.counts();
    assert.equal(counts.waiting, 0, 'the job left the queue');
  });
});
