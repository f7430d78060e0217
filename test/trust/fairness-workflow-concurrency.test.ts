import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * Class 10 of the trust issue: one workflow's backlog of idle runs took every worker slot,
 * so another workflow's `return 42` waited for them. Each workflow now runs at most
 * `limits.concurrency` runs at once (default 1), and runs beyond that wait without taking a
 * slot, so other workflows' runs go first.
 */

/** A run that holds its slot until the test sets the workflow's state key `go`. */
const HOLD = 'export default async function (ctx) { ctx.log.info("holding"); while (!(await ctx.state.get("go"))) await ctx.sleep(20); return "released" }';

/** The most runs whose [startedAt, finishedAt] intervals overlap at one instant. */
function maxOverlap(runs: Array<{ startedAt: string; finishedAt: string }>): number {
  const edges = runs.flatMap((r) => [
    { at: Date.parse(r.startedAt), d: 1 },
    { at: Date.parse(r.finishedAt), d: -1 },
  ]);
  // An end and a start at the same millisecond do not overlap.
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of edges) max = Math.max(max, (now += e.d));
  return max;
}

describe('per-workflow concurrency and fair scheduling', () => {
  let t: TestSystem;
  // Four worker slots: without a per-workflow cap, four held runs of one workflow fill them.
  before(async () => {
    t = await startTestSystem({ env: { VEER_ENGINE_CONCURRENCY: '4', VEER_SANDBOX_PROCESSES: '2' } });
  });
  after(() => t.stop());

  const statuses = async (name: string) => (await t.call('GET', `/api/v1/workflows/${name}/runs?limit=100`)).body.runs as any[];
  const count = (runs: any[], status: string) => runs.filter((r) => r.status === status).length;

  async function startMany(name: string, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await t.call('POST', `/api/v1/workflows/${name}/runs`, {});
      assert.equal(res.status, 201);
      ids.push(res.body.id);
    }
    return ids;
  }

  async function releaseAndCheck(name: string, ids: string[], cap: number): Promise<void> {
    await t.system.stores.state.set(name, 'go', true);
    const runs = await waitFor(
      async () => {
        const all = await statuses(name);
        return ids.every((id) => all.find((r) => r.id === id)?.status === 'succeeded') && all.filter((r) => ids.includes(r.id));
      },
      { timeoutMs: 60_000, what: `every ${name} run to finish` },
    );
    for (const r of runs) assert.equal(r.attempts, 1, 'waiting for a slot spends no attempt');
    assert.ok(maxOverlap(runs) <= cap, `at most ${cap} ${name} runs ran at once (saw ${maxOverlap(runs)})`);
  }

  it("runs another workflow's trivial run while one workflow's long runs hold their slots", async () => {
    await t.call('PUT', '/api/v1/workflows/hog', { script: HOLD, limits: { timeoutMs: 120_000, concurrency: 2 } });
    await t.call('PUT', '/api/v1/workflows/answer', { script: 'export default async function () { return 42 }' });
    const hogs = await startMany('hog', 10);
    await waitFor(async () => count(await statuses('hog'), 'running') === 2, { timeoutMs: 30_000, what: 'two hog runs to hold their slots' });

    const answer = await t.call('POST', '/api/v1/workflows/answer/runs?wait=true&timeoutMs=30000', {});
    assert.equal(answer.body.status, 'succeeded', JSON.stringify(answer.body));
    assert.equal(answer.body.result, 42);

    const now = await statuses('hog');
    assert.equal(count(now, 'running'), 2, "the hog's runs were still running when the answer came");
    assert.equal(count(now, 'queued'), 8, 'the rest of the backlog waits, at its cap');
    await releaseAndCheck('hog', hogs, 2);
  });

  it('runs one run of a workflow at a time unless limits.concurrency says more', async () => {
    await t.call('PUT', '/api/v1/workflows/single', { script: HOLD, limits: { timeoutMs: 120_000 } });
    await t.call('PUT', '/api/v1/workflows/other', { script: 'export default async function (ctx) { return ctx.run.id }' });
    const singles = await startMany('single', 4);
    await waitFor(async () => count(await statuses('single'), 'running') === 1, { timeoutMs: 30_000, what: 'one single run to start' });
    // Another workflow's runs keep flowing past the waiting ones.
    for (let i = 0; i < 3; i++) assert.equal((await t.call('POST', '/api/v1/workflows/other/runs?wait=true&timeoutMs=30000', {})).body.status, 'succeeded');
    assert.equal(count(await statuses('single'), 'running'), 1);
    await releaseAndCheck('single', singles, 1);
  });

  it('holds the cap across engine replicas', async () => {
    const replica = await startTestSystem({ redis: t.redis, env: { VEER_REDIS_PREFIX: t.env.VEER_REDIS_PREFIX, VEER_ENGINE_CONCURRENCY: '4' } });
    try {
      await t.call('PUT', '/api/v1/workflows/everywhere', { script: HOLD, limits: { timeoutMs: 120_000, concurrency: 2 } });
      const ids = await startMany('everywhere', 6);
      await waitFor(async () => count(await statuses('everywhere'), 'running') === 2, { timeoutMs: 30_000, what: 'two runs to start' });
      // Eight slots over two engines, and other runs flow through both.
      for (let i = 0; i < 4; i++) assert.equal((await t.call('POST', '/api/v1/workflows/other/runs?wait=true&timeoutMs=30000', {})).body.status, 'succeeded');
      assert.equal(count(await statuses('everywhere'), 'running'), 2, 'two runs at once, whichever engines took them');
      await releaseAndCheck('everywhere', ids, 2);
    } finally {
      await replica.stop();
    }
  });

  it('starts a waiting run when a running one is cancelled', async () => {
    await t.call('PUT', '/api/v1/workflows/queue-jump', { script: HOLD, limits: { timeoutMs: 120_000 } });
    const [first, second] = await startMany('queue-jump', 2);
    await waitFor(async () => (await t.system.stores.runs.get(first))?.status === 'running', { timeoutMs: 30_000, what: 'the first run to start' });
    assert.equal((await t.system.stores.runs.get(second))?.status, 'queued');
    assert.equal((await t.call('POST', `/api/v1/runs/${first}/cancel`)).status, 202);
    await waitFor(async () => (await t.system.stores.runs.get(second))?.status === 'running', {
      timeoutMs: 30_000,
      what: 'the second run to take the freed slot',
    });
    await t.system.stores.state.set('queue-jump', 'go', true);
    await waitFor(async () => (await t.system.stores.runs.get(second))?.status === 'succeeded', { timeoutMs: 30_000, what: 'the second run to finish' });
  });
});
