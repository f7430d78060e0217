import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDeploymentsCapability } from '../../engine/deployments/capability.ts';
import { grantFor } from '../../engine/deployments/permissions.ts';
import type { RunScope } from '../../engine/sandbox/capabilities.ts';
import type { Permissions } from '../../engine/domain/workflow.ts';
import { createMemoryScheduler } from './memory-scheduler.ts';

function scopeFor(deployments: Permissions['deployments'], extra: Partial<RunScope> = {}) {
  const logs: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const scope: RunScope = {
    runId: 'run-1',
    attempt: 1,
    workflow: { name: 'autoscaler', version: 3, permissions: { gateways: [], deployments } },
    log: (level, message, fields) => logs.push({ level, message, fields }),
    signal: new AbortController().signal,
    deadline: Date.now() + 60_000,
    ...extra,
  };
  return { scope, logs };
}

describe('ctx.deployments capability', () => {
  const setup = () => {
    const scheduler = createMemoryScheduler([{ name: 'shop', desiredInstances: 2 }, { name: 'shop-canary' }, { name: 'billing' }]);
    const events: unknown[] = [];
    const cap = createDeploymentsCapability({ scheduler, emit: (e) => void events.push(e) });
    return { scheduler, events, cap };
  };

  it('scales within the bounds, logs before → after and emits deployment.scaled', async () => {
    const { cap, events } = setup();
    const { scope, logs } = scopeFor({ 'shop-*': { minInstances: 1, maxInstances: 5 }, shop: { minInstances: 1, maxInstances: 4 } });
    const d = (await cap.scale(scope, 'shop', { instances: 4 })) as { desiredInstances: number };
    assert.equal(d.desiredInstances, 4);
    assert.deepEqual(logs, [
      {
        level: 'info',
        message: "deployment 'shop' scaled: instances 2 → 4",
        fields: { deployment: 'shop', before: { instances: 2, cpu: 1, memory: 536870912 }, after: { instances: 4, cpu: 1, memory: 536870912 } },
      },
    ]);
    assert.deepEqual(events, [
      {
        tags: ['deployments', 'deployments:shop'],
        type: 'deployment.scaled',
        value: {
          deployment: 'shop',
          before: { instances: 2, cpu: 1, memory: 536870912 },
          after: { instances: 4, cpu: 1, memory: 536870912 },
          runId: 'run-1',
          workflow: 'autoscaler',
        },
      },
    ]);
  });

  it('refuses requests outside the bounds instead of clamping, naming the permitted range and the entry', async () => {
    const { cap, scheduler } = setup();
    const { scope, logs } = scopeFor({ 'shop-*': { minInstances: 1, maxInstances: 3 } });
    await assert.rejects(cap.scale(scope, 'shop-canary', { instances: 5 }), (err: any) => {
      assert.equal(err.code, 'PERMISSION');
      assert.equal(
        err.message,
        "workflow 'autoscaler' asked for 5 instances of deployment 'shop-canary', outside its permitted 1..3 (permissions.deployments['shop-*'])",
      );
      return true;
    });
    await assert.rejects(cap.scale(scope, 'shop-canary', { instances: 0 }), { code: 'PERMISSION' });
    assert.deepEqual(scheduler.calls, [], 'nothing reached the scheduler');
    assert.deepEqual(logs, []);
  });

  it('refuses deployments the workflow does not list, saying how to grant them', async () => {
    const { cap } = setup();
    const { scope } = scopeFor({ 'shop-*': { minInstances: 0, maxInstances: 3 } });
    await assert.rejects(
      cap.scale(scope, 'billing', { instances: 1 }),
      (err: any) => err.code === 'PERMISSION' && /may not scale deployment 'billing': add it .* to permissions\.deployments/.test(err.message),
    );
    await assert.rejects(cap.scale(scope, 'billing', { cpu: 2 }), { code: 'PERMISSION' }, 'cpu/memory changes also need a grant');
  });

  it('the most specific entry wins: an exact name, then the glob with most literal characters', () => {
    const p = {
      '*': { minInstances: 0, maxInstances: 1 },
      'shop-*': { minInstances: 1, maxInstances: 5 },
      'shop-canary': { minInstances: 0, maxInstances: 2 },
    };
    assert.equal(grantFor(p, 'shop-canary')?.pattern, 'shop-canary');
    assert.equal(grantFor(p, 'shop-v2')?.pattern, 'shop-*');
    assert.equal(grantFor(p, 'billing')?.pattern, '*');
    assert.equal(grantFor({ 'shop-?': { minInstances: 0, maxInstances: 1 } }, 'shop-12'), undefined);
  });

  it('validates arguments coming from the script', async () => {
    const { cap } = setup();
    const { scope } = scopeFor({ shop: { minInstances: 0, maxInstances: 9 } });
    await assert.rejects(cap.scale(scope, 'shop', { instances: 1.5 }), { code: 'VALIDATION' });
    await assert.rejects(cap.scale(scope, 'shop', {}), { code: 'VALIDATION' });
    await assert.rejects(cap.scale(scope, 'shop', { memory: 'plenty' }), { code: 'VALIDATION' });
    await assert.rejects(cap.get(scope, '../etc'), { code: 'VALIDATION' });
  });

  it('reads any deployment without a grant', async () => {
    const { cap } = setup();
    const { scope } = scopeFor({});
    assert.equal(((await cap.list(scope)) as unknown[]).length, 3);
    assert.equal(((await cap.get(scope, 'billing')) as { name: string }).name, 'billing');
    await assert.rejects(cap.get(scope, 'nope'), { code: 'SCHEDULER.NOT_FOUND' });
  });

  it('waitReady is bounded by the run deadline and passes the run signal', async () => {
    const { cap, scheduler } = setup();
    const { scope } = scopeFor({}, { deadline: Date.now() + 5000 });
    await cap.waitReady(scope, 'shop', { timeoutMs: 600_000 });
    const [call] = scheduler.calls;
    const [, , ms, signal] = call.split(' ');
    assert.ok(Number(ms) <= 5000, `timeout ${ms} bounded by the deadline`);
    assert.equal(signal, 'signal');
    const late = scopeFor({}, { deadline: Date.now() - 1 }).scope;
    await assert.rejects(cap.waitReady(late, 'shop'), { code: 'SCHEDULER.TIMEOUT' });
  });

  it('a failing emit does not fail the scale; it is noted in the run log', async () => {
    const scheduler = createMemoryScheduler([{ name: 'shop' }]);
    const cap = createDeploymentsCapability({ scheduler, emit: () => Promise.reject(new Error('events down')) });
    const { scope, logs } = scopeFor({ shop: { minInstances: 0, maxInstances: 3 } });
    await cap.scale(scope, 'shop', { instances: 3 });
    assert.equal(logs[1].level, 'warn');
    assert.match(logs[1].message, /was scaled but the deployment\.scaled event could not be published: events down/);
  });
});
