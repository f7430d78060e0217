import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

describe('GET /api/v1/releases', () => {
  let t: TestSystem;
  before(async () => {
    // No engine: the state is put by hand, as a canary run would leave it.
    t = await startTestSystem({ engine: false });
  });
  after(() => t.stop());

  it('lists only the workflows running the built-in canary script, with their release state and newest run', async () => {
    const tpl = await t.call('GET', '/api/v1/templates/canary-release');
    assert.equal(tpl.status, 200);
    const canary = { ...tpl.body.workflow, env: { ...tpl.body.workflow.env, GATEWAY: 'shop', STEPS: '[5, {"weight": 50, "pause": "manual"}, 100]' } };
    assert.equal((await t.call('PUT', '/api/v1/workflows/shop-canary', canary)).status, 200);
    // Trailing whitespace differs from the template: still the canary (a file read by `veer apply`).
    assert.equal((await t.call('PUT', '/api/v1/workflows/other-canary', { ...canary, script: `${canary.script}\n\n` })).status, 200);
    assert.equal((await t.call('PUT', '/api/v1/workflows/plain', { script: 'export default async function () { return 1 }' })).status, 200);

    const empty = await t.call('GET', '/api/v1/releases');
    assert.equal(empty.status, 200);
    assert.deepEqual(
      empty.body.releases.map((r: { workflow: string }) => r.workflow),
      ['other-canary', 'shop-canary'],
    );
    const fresh = empty.body.releases[1];
    assert.equal(fresh.release, null);
    assert.deepEqual(fresh.history, []);
    assert.equal(fresh.lastRun, null);
    assert.equal(fresh.gateway, 'shop');
    assert.equal(fresh.stableRoute, 'stable');
    assert.equal(fresh.canaryRoute, 'canary');
    assert.equal(fresh.steps, '[5, {"weight": 50, "pause": "manual"}, 100]');

    const release = { id: 'v2', phase: 'paused', stepIndex: 2, weight: 50, failures: 0, noDataStreak: 0, pausedSince: '2026-01-01T00:00:00.000Z' };
    const history = [{ time: '2026-01-01T00:00:00.000Z', weight: 50, action: 'pause', phase: 'paused', verdict: { outcome: 'pass', checks: [] } }];
    assert.equal((await t.call('PUT', '/api/v1/workflows/shop-canary/state/release', release)).status, 200);
    assert.equal((await t.call('PUT', '/api/v1/workflows/shop-canary/state/history', history)).status, 200);
    const run = await t.call('POST', '/api/v1/workflows/shop-canary/runs', {});
    assert.equal(run.status, 201);

    const got = await t.call('GET', '/api/v1/releases');
    const shop = got.body.releases.find((r: { workflow: string }) => r.workflow === 'shop-canary');
    assert.deepEqual(shop.release, release);
    assert.deepEqual(shop.history, history);
    assert.equal(shop.lastRun.id, run.body.id);
    assert.equal(shop.lastRun.status, 'queued');
  });
});
