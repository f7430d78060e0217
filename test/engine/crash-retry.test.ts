import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * One sandbox process running two runs: a script that aborts the whole process (a
 * V8 allocation failure no memory limit catches) and a bystander. The bystander is retried
 * in a fresh process and succeeds; the culprit fails after its one crash retry.
 */
describe('a sandbox process crash', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ env: { VEER_SANDBOX_PROCESSES: '1', VEER_ENGINE_CONCURRENCY: '2' } });
  });
  after(() => t.stop());

  it('retries the runs it took down once, so only the culprit fails', async () => {
    await t.call('PUT', '/api/v1/workflows/bystander', {
      script: 'export default async function (ctx) { ctx.log.info("working"); await ctx.sleep(ctx.run.attempt === 1 ? 20000 : 10); return "done" }',
    });
    await t.call('PUT', '/api/v1/workflows/crasher', { script: 'export default async function () { new Array(1e9).fill(0); return "survived" }' });
    const victim = await t.call('POST', '/api/v1/workflows/bystander/runs', {});
    await waitFor(async () => (await t.system.stores.runs.readLog(victim.body.id)).length > 0, {
      timeoutMs: 20_000,
      what: 'bystander to be running in the sandbox',
    });
    const culprit = await t.call('POST', '/api/v1/workflows/crasher/runs?wait=true', {});

    assert.equal(culprit.body.status, 'failed');
    assert.equal(culprit.body.error.code, 'SANDBOX.CRASHED');
    assert.equal(culprit.body.attempts, 2, 'the culprit got its one crash retry');

    const saved = await waitFor(
      async () => {
        const r = await t.system.stores.runs.get(victim.body.id);
        return r && (r.status === 'succeeded' || r.status === 'failed') && r;
      },
      { timeoutMs: 30_000, what: 'bystander to finish' },
    );
    assert.equal(saved.status, 'succeeded');
    assert.equal(saved.result, 'done');
    assert.equal(saved.attempts, 2);
    const logs = await t.system.stores.runs.readLog(victim.body.id);
    assert.ok(logs.some((e) => /retrying once in a fresh process/.test(e.message)));
  });
});
