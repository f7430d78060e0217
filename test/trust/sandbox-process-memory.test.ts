import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

/**
 * Issue 9, class 4 (process side) and 5: one sandbox process running two runs of different
 * workflows. One grows the process past its resident-memory cap (heap within its own
 * `limits.memoryMb`, which the operator's per-process cap still bounds); the other is a
 * bystander. The hog fails SANDBOX.MEMORY naming the limit; the bystander finishes, and the
 * re-run it needed cost it none of its retries.
 */
describe('a sandbox process over its memory cap', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({
      env: {
        VEER_SANDBOX_PROCESSES: '1',
        VEER_ENGINE_CONCURRENCY: '2',
        VEER_SANDBOX_CHILD_MEMORY_MB: '160',
      },
    });
  });
  after(() => t.stop());

  const { finished } = workflowCalls(() => t);

  it('fails the run that grew it with SANDBOX.MEMORY; its neighbour finishes without losing a retry', async () => {
    // attempt 1 shares the process with the hog; the re-run after that is free, so the one real
    // failure (attempt 2) still leaves this run's second try (attempt 3).
    const bystander = await t.call('PUT', '/api/v1/workflows/steady', {
      script: `export default async function (ctx) {
        ctx.log.info('up');
        if (ctx.run.attempt === 1) await ctx.sleep(60000);
        if (ctx.run.attempt === 2) throw new Error('flaky');
        return 'done';
      }`,
      limits: { timeoutMs: 90_000 },
      retries: { attempts: 2, backoffMs: 10 },
    });
    assert.equal(bystander.status, 200, JSON.stringify(bystander.body));
    const hog = await t.call('PUT', '/api/v1/workflows/hog', {
      script: `export default async function (ctx) {
        const keep = [];
        for (let i = 0; i < 24; i++) keep.push(new Array(1 << 20).fill(i + 0.5)); // ~200 MB of heap
        ctx.log.info('holding');
        await ctx.sleep(60000);
        return keep.length;
      }`,
      limits: { timeoutMs: 90_000, memoryMb: 256 },
    });
    assert.equal(hog.status, 200, JSON.stringify(hog.body));

    const steady = await t.call('POST', '/api/v1/workflows/steady/runs', {});
    await waitFor(async () => (await t.system.stores.runs.readLog(steady.body.id)).some((e) => e.message === 'up'), {
      timeoutMs: 20_000,
      what: 'the bystander to be running in the sandbox process',
    });
    const grown = await t.call('POST', '/api/v1/workflows/hog/runs', {});

    const h = await finished(grown.body.id);
    assert.equal(h.status, 'failed');
    assert.equal(h.error.code, 'SANDBOX.MEMORY');
    assert.match(h.error.message, /160 MB per sandbox process \(VEER_SANDBOX_CHILD_MEMORY_MB/);
    assert.match(h.error.message, /raise VEER_SANDBOX_CHILD_MEMORY_MB/);

    const s = await finished(steady.body.id);
    assert.equal(s.status, 'succeeded', JSON.stringify(s.error));
    assert.equal(s.result, 'done');
    assert.equal(s.attempts, 3, 'lost process (free re-run), one counted failure, one counted retry');
    const logs = await t.system.stores.runs.readLog(steady.body.id);
    assert.ok(logs.some((e) => /does not count against retries/.test(e.message)));

    const after = await t.call('PUT', '/api/v1/workflows/quick', { script: 'export default async () => 42' });
    assert.equal(after.status, 200);
    const quick = await t.call('POST', '/api/v1/workflows/quick/runs', {});
    const q = await finished(quick.body.id);
    assert.equal(q.result, 42, 'the pool still runs scripts');
  });
});
