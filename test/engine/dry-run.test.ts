import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DryRunResult } from '../../engine/domain/run.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

/**
 * Dry runs through the whole engine (local scheduler, KV gateways, Redis events): reads are
 * real; setWeights, scale, events.emit, state writes and signals taken are checked like the
 * real calls, listed in `result.effects` with before/after, and not applied — the gateway
 * document, the scheduler, the event store, the state and the inbox are as they were.
 */
describe('dry runs', () => {
  let t: TestSystem;
  const wf = workflowCalls(() => t);
  before(async () => {
    t = await startTestSystem({ engine: true, env: { VEER_SCHEDULER: 'local' } });
    const shop = {
      port: 18_281,
      routes: {
        stable: { weight: 90, targets: [{ host: '127.0.0.1', port: 9001 }] },
        canary: { weight: 10, targets: [{ host: '127.0.0.1', port: 9002 }] },
      },
    };
    assert.equal((await t.call('PUT', '/api/v1/gateways/shop', shop)).status, 201);
    // No instances: nothing runs, but the scheduler knows the deployment and its desired count.
    const web = await t.call('PUT', '/api/v1/deployments/web', { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1 << 30)'], instances: 0 });
    assert.ok(web.status === 200 || web.status === 201 || web.status === 202, JSON.stringify(web.body));
  });
  after(() => t.stop());

  /** A manual dry run, to its end. */
  async function dryRun(name: string): Promise<any> {
    const started = await t.call('POST', `/api/v1/workflows/${name}/runs`, { dryRun: true });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal(started.body.dryRun, true);
    return wf.finished(started.body.id);
  }

  const SCRIPT = `
    export default async function (ctx) {
      const seen = {};
      await ctx.gateways.setWeights('shop', { stable: 75, canary: 25 });
      seen.gateway = (await ctx.gateways.get('shop')).routes.canary.weight;
      seen.listed = (await ctx.gateways.list()).find((g) => g.name === 'shop').routes.canary.weight;
      await ctx.deployments.scale('web', { instances: 2 });
      seen.desired = (await ctx.deployments.get('web')).desiredInstances;
      seen.ready = (await ctx.deployments.waitReady('web')).desiredInstances;
      const event = await ctx.events.emit({ tags: ['release'], type: 'canary.step', value: { weight: 25 } });
      seen.eventSource = event.source;
      await ctx.state.set('step', 2);
      seen.step = await ctx.state.get('step');
      seen.existed = await ctx.state.delete('gone');
      seen.gone = (await ctx.state.get('gone')) ?? null;
      const first = await ctx.signals.take('promote');
      const second = await ctx.signals.take('promote');
      const third = await ctx.signals.take('promote');
      seen.signals = [first?.value ?? null, second?.value ?? null, third ?? null];
      return seen;
    }`;

  it('lists every effect with before and after, lets the script read its own changes, and changes nothing', async () => {
    await wf.put('dry-all', { permissions: { gateways: ['shop'], deployments: { web: { minInstances: 0, maxInstances: 3 } } }, script: SCRIPT });
    for (const [key, value] of [
      ['step', 1],
      ['gone', true],
    ] as const)
      assert.equal((await t.call('PUT', `/api/v1/workflows/dry-all/state/${key}`, value)).status, 200);
    const send = async (value: number) => (await t.call('POST', '/api/v1/workflows/dry-all/signals', { name: 'promote', value })).body.signal;
    const promote1 = await send(1);
    const promote2 = await send(2);
    const gatewayBefore = (await t.call('GET', '/api/v1/gateways/shop')).body;
    const eventsHead = await t.system.events.store.head();
    const eventCount = async () => (await t.system.events.store.query({ limit: 1000 })).events.length;
    const countBefore = await eventCount();

    const run = await dryRun('dry-all');
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    assert.equal(run.dryRun, true);
    const result = run.result as DryRunResult;
    assert.deepEqual(result.value, {
      gateway: 25,
      listed: 25,
      desired: 2,
      ready: 2,
      eventSource: `workflow:dry-all/${run.id}`,
      step: 2,
      existed: true,
      gone: null,
      signals: [1, 2, null],
    });
    const byCapability = (c: string) => result.effects.filter((e) => e.capability === c);
    assert.deepEqual(
      result.effects.map((e) => e.capability),
      ['gateways.setWeights', 'deployments.scale', 'events.emit', 'state.set', 'state.delete', 'signals.take', 'signals.take'],
    );
    assert.deepEqual(byCapability('gateways.setWeights'), [
      { capability: 'gateways.setWeights', target: 'shop', before: { stable: 90, canary: 10 }, after: { stable: 75, canary: 25 } },
    ]);
    assert.deepEqual(byCapability('deployments.scale'), [
      { capability: 'deployments.scale', target: 'web', before: { instances: 0 }, after: { instances: 2 } },
    ]);
    const [emit] = byCapability('events.emit');
    assert.equal(emit.target, 'release');
    assert.equal(emit.before, null);
    assert.deepEqual((emit.after as { type: string; value: unknown }).type, 'canary.step');
    assert.deepEqual((emit.after as { value: unknown }).value, { weight: 25 });
    assert.ok((emit.after as { tags: string[] }).tags.includes('workflows:dry-all'));
    assert.deepEqual(byCapability('state.set'), [{ capability: 'state.set', target: 'step', before: 1, after: 2 }]);
    assert.deepEqual(byCapability('state.delete'), [{ capability: 'state.delete', target: 'gone', before: true, after: null }]);
    assert.deepEqual(
      byCapability('signals.take').map((e) => [e.target, (e.before as { id: string }).id, e.after]),
      [
        ['promote', promote1.id, null],
        ['promote', promote2.id, null],
      ],
    );

    // Nothing changed: the KV document, the scheduler, the event store (no run.* events either), state, the inbox.
    const gatewayAfter = (await t.call('GET', '/api/v1/gateways/shop')).body;
    assert.equal(gatewayAfter.revision, gatewayBefore.revision);
    assert.deepEqual(gatewayAfter.routes, gatewayBefore.routes);
    assert.equal((await t.call('GET', '/api/v1/deployments/web')).body.desiredInstances, 0);
    assert.equal(await t.system.events.store.head(), eventsHead);
    assert.equal(await eventCount(), countBefore);
    assert.deepEqual((await t.call('GET', '/api/v1/workflows/dry-all/state')).body.state, { step: 1, gone: true });
    assert.deepEqual(
      (await t.call('GET', '/api/v1/workflows/dry-all/signals')).body.signals.map((s: { id: string }) => s.id),
      [promote1.id, promote2.id],
    );
  });

  it('fails where the real run would: a scale outside the permitted bounds is refused alike', async () => {
    await wf.put('dry-bounds', {
      permissions: { deployments: { web: { minInstances: 0, maxInstances: 3 } } },
      script: `export default async function (ctx) { await ctx.deployments.scale('web', { instances: 5 }); return 'scaled'; }`,
    });
    const dry = await dryRun('dry-bounds');
    const real = await wf.run('dry-bounds');
    assert.equal(real.status, 'failed');
    assert.equal(dry.status, 'failed');
    assert.equal(dry.dryRun, true);
    assert.equal(dry.error.code, real.error.code);
    assert.equal(dry.error.message, real.error.message);
    assert.match(dry.error.message, /outside its permitted 0\.\.3 .*\[PERMISSION\]$/);
  });

  it('refuses what the real calls refuse: a gateway outside permissions.gateways, weights that do not add up, a reserved event tag', async () => {
    await wf.put('dry-refusals', {
      permissions: { gateways: ['shop'] },
      script: `
        export default async function (ctx) {
          const out = {};
          for (const [what, call] of [
            ['gateway', () => ctx.gateways.setWeights('other', { a: 100 })],
            ['weights', () => ctx.gateways.setWeights('shop', { stable: 70, canary: 10 })],
            ['tag', () => ctx.events.emit({ tags: ['runs:fake'] })],
          ]) {
            try { await call(); out[what] = 'accepted'; } catch (e) { out[what] = e.code; }
          }
          return out;
        }`,
    });
    const dry = await dryRun('dry-refusals');
    const real = await wf.run('dry-refusals');
    assert.equal(dry.status, 'succeeded', JSON.stringify(dry.error));
    assert.deepEqual(dry.result.value, { gateway: 'PERMISSION', weights: 'VALIDATION', tag: 'PERMISSION' });
    assert.deepEqual(dry.result.effects, []);
    assert.deepEqual(real.result, dry.result.value);
  });
});
