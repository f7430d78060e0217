/**
 * Engines keep the workflow versions their runs execute in memory (engine/runs/version-cache.ts).
 * A version number is not unique over time: a workflow deleted and uploaded again numbers its
 * versions from 1 again. A run must always execute the script it was started for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

describe('workflow versions cached by the engine', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem();
  });
  after(() => t.stop());

  async function put(name: string, script: string) {
    const res = await t.call('PUT', `/api/v1/workflows/${name}`, { script });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { version: number };
  }
  async function run(name: string) {
    const res = await t.call('POST', `/api/v1/workflows/${name}/runs?wait=true`, {});
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'succeeded', JSON.stringify(res.body));
    return res.body as { result: unknown; workflowVersion: number };
  }

  it('runs the re-uploaded script after a delete, though its version number is reused', async () => {
    assert.equal((await put('reused', "export default async function () { return 'first life' }")).version, 1);
    assert.equal((await run('reused')).result, 'first life');
    assert.equal((await run('reused')).result, 'first life', 'served again (from the cache)');
    assert.equal((await t.call('DELETE', '/api/v1/workflows/reused')).status, 204);
    assert.equal((await put('reused', "export default async function () { return 'second life' }")).version, 1);
    const again = await run('reused');
    assert.equal(again.workflowVersion, 1);
    assert.equal(again.result, 'second life');
  });

  it('runs each version its run was started for', async () => {
    await put('versions', 'export default async function () { return 1 }');
    assert.equal((await run('versions')).result, 1);
    await put('versions', 'export default async function () { return 2 }');
    assert.equal((await run('versions')).result, 2);
  });
});
