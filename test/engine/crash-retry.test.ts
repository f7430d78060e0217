import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * One sandbox process running two runs: a script that takes the whole process down (it grows
 * the process past its memory cap, so the engine kills it — `new Array(1e9).fill(0)`, which
 * once aborted V8 outright, now fails inside its own heap limit) and a bystander. Both are
 * re-run in a fresh process of their own; the bystander succeeds, the culprit fails there alone.
 */
describe('a sandbox process crash', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ env: { VEER_SANDBOX_PROCESSES: '1', VEER_ENGINE_CONCURRENCY: '2', VEER_SANDBOX_CHILD_MEMORY_MB: '160' } });
  });
  after(() => t.stop());

  it('retries the runs it took down once, so only the culprit fails', async () => {
    await t.call('PUT', '/api/v1/workflows/bystander', {
      script: 'export default async function (ctx) { ctx.log.info("working"); await ctx.sleep(ctx.run.attempt === 1 ? 20000 : 10); return "done" }',
    });
    await t.call('PUT', '/api/v1/workflows/crasher', {
      script:
        'export default async function (ctx) { const keep = []; for (let i = 0; i < 24; i++) keep.push(new Array(1 << 20).fill(i + 0.5)); await ctx.sleep(60000); return keep.length }',
      limits: { timeoutMs: 90_000, memoryMb: 256 },
    });
    const victim = await t.call('POST', '/api/v1/workflows/bystander/runs', {});
    await waitFor(async () => (await t.system.stores.runs.readLog(victim.body.id)).length > 0, {
      timeoutMs: 20_000,
      what: 'bystander to be running in the sandbox',
    });
    const culprit = await t.call('POST', '/api/v1/workflows/crasher/runs?wait=true', {});

    assert.equal(culprit.body.status, 'failed');
    assert.equal(culprit.body.error.code, 'SANDBOX.MEMORY');
    assert.equal(culprit.body.attempts, 2, 'the culprit got its one re-run in a process of its own');

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
    assert.ok(logs.some((e) => /retrying once in a fresh process/.test(e.message) && /does not count against retries/.test(e.message)));
  });
});
