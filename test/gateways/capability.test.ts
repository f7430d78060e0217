import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createGatewaysCapability, globMatches } from '../../engine/gateways/capability.ts';
import { createGatewayService } from '../../engine/gateways/service.ts';
import type { RunScope } from '../../engine/sandbox/capabilities.ts';
import { PermissionError } from '../../engine/shared/errors.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { createMemoryKv } from './memory-kv.ts';

function setup(allowed: string[]) {
  const service = createGatewayService({ kv: createMemoryKv(), logger: silentLogger() });
  const cap = createGatewaysCapability(service);
  const logs: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const scope: RunScope = {
    runId: 'run-1',
    attempt: 1,
    workflow: { name: 'canary', version: 1, permissions: { gateways: allowed, deployments: {} } },
    log: (level, message, fields) => void logs.push({ level, message, fields }),
    signal: new AbortController().signal,
    deadline: Date.now() + 60_000,
  };
  return { service, cap, scope, logs };
}

const routes = { v1: { weight: 100, targets: [{ host: '127.0.0.1', port: 9001 }] }, v2: { weight: 0, targets: [{ host: '127.0.0.1', port: 9002 }] } };

test('globs match names the way permissions are written', () => {
  assert.ok(globMatches('shop-*', 'shop-eu'));
  assert.ok(globMatches('shop', 'shop'));
  assert.ok(globMatches('*', 'anything'));
  assert.ok(!globMatches('shop-*', 'shop'));
  assert.ok(!globMatches('shop', 'shop-eu'));
  assert.ok(!globMatches('shop.*', 'shopx1'), 'dots are literal');
});

test('a permitted gateway can be re-weighted; the run log records before → after', async () => {
  const { service, cap, scope, logs } = setup(['shop-*']);
  await service.put('shop-eu', { port: 8080, routes });
  const result = (await cap.setWeights(scope, 'shop-eu', { v1: 80, v2: 20 })) as { routes: Record<string, { weight: number }>; revision: string };
  assert.equal(result.routes.v2.weight, 20);
  assert.equal((await service.get('shop-eu')).routes.v2.weight, 20);
  assert.equal(logs.length, 1);
  assert.equal(logs[0].level, 'info');
  assert.equal(logs[0].message, 'gateway shop-eu: weights v1 100 → 80, v2 0 → 20');
  assert.deepEqual(logs[0].fields, { gateway: 'shop-eu', before: { v1: 100, v2: 0 }, after: { v1: 80, v2: 20 }, revision: result.revision });
});

test('update() patches a permitted gateway and logs the weights', async () => {
  const { service, cap, scope, logs } = setup(['shop']);
  await service.put('shop', { port: 8080, routes });
  const g = (await cap.update(scope, 'shop', { routes: { v2: { condition: 'has cookie beta' } } })) as {
    routes: Record<string, { condition?: string; conditionStrength: number }>;
  };
  assert.equal(g.routes.v2.condition, 'has cookie beta');
  assert.equal(g.routes.v2.conditionStrength, 100);
  assert.match(logs[0].message, /^gateway shop: updated; weights unchanged$/);
});

test('changing a gateway outside permissions.gateways is a PermissionError naming it and the permission', async () => {
  const { service, cap, scope, logs } = setup(['shop-*']);
  await service.put('billing', { port: 8081, routes });
  for (const call of [() => cap.setWeights(scope, 'billing', { v1: 0, v2: 100 }), () => cap.update(scope, 'billing', { sticky: 'route' })]) {
    await assert.rejects(call(), (err: unknown) => {
      assert.ok(err instanceof PermissionError);
      assert.equal(err.code, 'PERMISSION');
      assert.match(
        err.message,
        /workflow 'canary' may not change gateway 'billing': add "billing" \(or a glob matching it\) to permissions.gateways \(it currently allows: shop-\*\)/,
      );
      return true;
    });
  }
  assert.equal((await service.get('billing')).routes.v2.weight, 0, 'nothing changed');
  assert.equal(logs.length, 0);
});

test('reads are allowed without permissions', async () => {
  const { service, cap, scope } = setup([]);
  await service.put('billing', { port: 8081, routes });
  assert.deepEqual(
    ((await cap.list(scope)) as Array<{ name: string }>).map((g) => g.name),
    ['billing'],
  );
  assert.equal(((await cap.get(scope, 'billing')) as { port: number }).port, 8081);
  await assert.rejects(cap.setWeights(scope, 'billing', { v1: 100 }), /it currently allows none/);
});

test('validation errors from the service reach the script unchanged', async () => {
  const { service, cap, scope } = setup(['*']);
  await service.put('shop', { port: 8080, routes });
  await assert.rejects(cap.setWeights(scope, 'shop', { v1: 50 }), /add up to 50/);
  await assert.rejects(cap.get(scope, 'nope'), /gateway 'nope' does not exist/);
});
