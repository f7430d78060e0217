import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

/**
 * `ctx.gateways.setWeights(name, weights, { rollback: { cause, reason } })`: a change marked as
 * a rollback emits `gateway.rolled_back` with the weights before and after, the run and the
 * cause; a rollback that changes nothing (the weights are already back) emits nothing, so a
 * rollback hook fired by every alert of a burst reports one rollback.
 */
describe('setWeights with the rollback option', () => {
  let t: TestSystem;
  const wf = workflowCalls(() => t);
  before(async () => {
    t = await startTestSystem({ engine: true });
  });
  after(() => t.stop());

  const rolledBack = async () => (await t.system.events.store.query({ tags: ['gateways:shop'], type: 'gateway.rolled_back', limit: 100 })).events;

  it('emits gateway.rolled_back once with before and after; the same call again emits nothing', async () => {
    const shop = {
      port: 18_181,
      routes: {
        stable: { weight: 75, targets: [{ host: '127.0.0.1', port: 9001 }] },
        canary: { weight: 25, targets: [{ host: '127.0.0.1', port: 9002 }] },
      },
    };
    assert.equal((await t.call('PUT', '/api/v1/gateways/shop', shop)).status, 201);
    await wf.put('rollback-hook', {
      permissions: { gateways: ['shop'] },
      script: `
        export default async function (ctx) {
          const g = await ctx.gateways.setWeights('shop', { stable: 100, canary: 0 }, { rollback: { cause: ctx.input.cause, reason: 'canary 5xx above stable' } });
          return g.routes.canary.weight;
        }`,
    });
    const run = async (cause: string) => {
      const r = await t.call('POST', '/api/v1/workflows/rollback-hook/runs?wait=true', { input: { cause } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.status, 'succeeded', JSON.stringify(r.body.error));
      return r.body;
    };

    const first = await run('alert-1');
    const events = await rolledBack();
    assert.equal(events.length, 1);
    assert.equal(events[0].source, 'veer');
    assert.ok(events[0].tags.includes('gateways'));
    assert.deepEqual(events[0].value, {
      gateway: 'shop',
      before: { stable: 75, canary: 25 },
      after: { stable: 100, canary: 0 },
      runId: first.id,
      workflow: 'rollback-hook',
      cause: 'alert-1',
      reason: 'canary 5xx above stable',
    });

    const second = await run('alert-2');
    assert.equal(second.result, 0);
    assert.equal((await rolledBack()).length, 1, 'the weights were already back: no second rollback event');
    assert.deepEqual((await t.call('GET', '/api/v1/gateways/shop')).body.routes.canary.weight, 0);
  });

  it('a setWeights without the option emits no rollback event', async () => {
    await wf.put('plain-shift', {
      permissions: { gateways: ['shop'] },
      script: `export default async function (ctx) { await ctx.gateways.setWeights('shop', { stable: 50, canary: 50 }); return null; }`,
    });
    const before = (await rolledBack()).length;
    assert.equal((await wf.run('plain-shift')).status, 'succeeded');
    assert.equal((await rolledBack()).length, before);
  });
});
