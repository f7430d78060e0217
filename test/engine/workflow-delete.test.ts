import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keysMatching } from '../helpers/redis-server.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

describe('deleting a workflow', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(async () => {
    await t.stop();
  });

  it('removes every key of the workflow but its runs', async () => {
    const name = 'doomed';
    assert.equal((await t.call('PUT', `/api/v1/workflows/${name}`, { script: 'export default async function () { return 1 }' })).status, 200);
    const { stores } = t.system;
    await stores.state.set(name, 'k', 1);
    await stores.triggers.cron.initTick(name, Date.now());
    await stores.triggers.esQuery.reset(name, { floor: 1, watermark: 1, fingerprint: 'x' });
    await stores.triggers.esQuery.markSeen(name, [{ id: 'i/1', time: 1 }]);
    const started = await stores.launcher.start(name, { trigger: { type: 'cron', tick: 't' }, dedupeKey: 'cron:t' });
    assert.ok(started.started);
    const before = await keysMatching(t.redisClient, `${t.keys.workflow(name)}*`);
    assert.ok(before.length >= 8, before.join(' '));

    assert.equal((await t.call('DELETE', `/api/v1/workflows/${name}`)).status, 204);
    const left = await keysMatching(t.redisClient, `${t.keys.workflow(name)}*`);
    // The run list stays until trimmed; the tombstone (30 days) lets a late signal be told "deleted" (409), not "unknown".
    assert.deepEqual(left.sort(), [t.keys.workflowDeleted(name), t.keys.workflowRuns(name)].sort());
    assert.ok((await t.redisClient.pttl(t.keys.workflowDeleted(name))) > 0, 'the tombstone expires');
    assert.equal(await stores.workflows.delete(name), false);
  });
});
