import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STATE_LIMITS } from '../../engine/ports/state-store.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { putWorkflow, runToEnd } from './boundary-support.ts';

/**
 * Class 11 (state-key limit raced past 1,000): the check and the write were two Redis
 * commands, so concurrent sets of new keys each saw room for one. Now one script does both.
 */
describe('ctx.state key limit under concurrency', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem();
  });
  after(() => t.stop());

  it('concurrent sets of new keys never take a workflow past the limit; each refusal says so', async () => {
    await putWorkflow(t, 'state-race', {
      limits: { timeoutMs: 60_000 },
      script: `export default async function (ctx) {
        const { fill, racers } = ctx.input;
        // Up to one short of the limit, in batches that stay within the in-flight budget.
        for (let i = 0; i < fill; i += 50) {
          const batch = [];
          for (let j = i; j < Math.min(fill, i + 50); j++) batch.push(ctx.state.set('fill-' + j, j));
          await Promise.all(batch);
        }
        // Then several new keys at once: only one may fit.
        const results = await Promise.all(
          Array.from({ length: racers }, (_, i) => ctx.state.set('race-' + i, i).then(() => 'stored', (e) => e.code + ': ' + e.message)),
        );
        // An existing key can still be changed at the limit.
        await ctx.state.set('fill-0', 'changed');
        return { results, changed: await ctx.state.get('fill-0') };
      }`,
    });
    const racers = 20;
    const run = await runToEnd(t, 'state-race', { fill: STATE_LIMITS.keys - 1, racers });
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    const stored = run.result.results.filter((r: string) => r === 'stored');
    const refused = run.result.results.filter((r: string) => r !== 'stored');
    assert.equal(stored.length, 1, JSON.stringify(run.result.results));
    assert.equal(refused.length, racers - 1);
    for (const r of refused)
      assert.match(
        r,
        new RegExp(`^VALIDATION: workflow 'state-race' already has ${STATE_LIMITS.keys} state keys \\(limit ${STATE_LIMITS.keys}\\); delete some first$`),
      );
    assert.equal(run.result.changed, 'changed');
    assert.equal(await t.redisClient.hlen(t.keys.workflowState('state-race')), STATE_LIMITS.keys);
  });
});
