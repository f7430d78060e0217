import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../../api/app.ts';
import { createDeploymentRoutes } from '../../api/routes/deployments.ts';
import { createKubernetesDriver } from '../../adapters/scheduler/kubernetes.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { freePort } from '../helpers/free-port.ts';
import { startKubernetesDouble, type KubernetesDouble } from '../doubles/kubernetes.ts';
import { createMemoryScheduler } from './memory-scheduler.ts';

const appWith = (scheduler: Parameters<typeof createDeploymentRoutes>[0]['scheduler']) =>
  createApp({ logger: silentLogger(), tokens: [], routers: [createDeploymentRoutes({ scheduler, maxWaitMs: 10_000 })] });
const read = (r: Response | Promise<Response>): Promise<any> => Promise.resolve(r).then((x) => x.json());
const send = (method: string, body?: unknown) => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: body === undefined ? undefined : JSON.stringify(body),
});

describe('deployments API', () => {
  it('lists and gets deployments; an unknown one is 404 with the scheduler error', async () => {
    const app = appWith(createMemoryScheduler([{ name: 'shop' }, { name: 'cart' }]));
    const list = await app.request('/api/v1/deployments');
    assert.equal(list.status, 200);
    const body = await read(list);
    assert.equal(body.scheduler, 'memory');
    assert.deepEqual(
      body.deployments.map((d: { name: string }) => d.name),
      ['shop', 'cart'],
    );
    assert.equal((await read(app.request('/api/v1/deployments/shop'))).name, 'shop');
    const missing = await app.request('/api/v1/deployments/nope');
    assert.equal(missing.status, 404);
    assert.equal((await read(missing)).code, 'SCHEDULER.NOT_FOUND');
  });

  it('PUT /scale validates the body, answers 202 when accepted and 200 when ?wait=true', async () => {
    const scheduler = createMemoryScheduler([{ name: 'shop' }]);
    const app = appWith(scheduler);
    for (const bad of [{}, { instances: -1 }, { instances: 2, colour: 'red' }, { cpu: 'lots' }]) {
      const res = await app.request('/api/v1/deployments/shop/scale', send('PUT', bad));
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal((await read(res)).code, 'VALIDATION');
    }
    const accepted = await app.request('/api/v1/deployments/shop/scale', send('PUT', { instances: 3, cpu: 0.5, memory: '256Mi' }));
    assert.equal(accepted.status, 202);
    assert.deepEqual((({ desiredInstances, cpu, memory }) => ({ desiredInstances, cpu, memory }))(await read(accepted)), {
      desiredInstances: 3,
      cpu: 0.5,
      memory: 256 * 1024 * 1024,
    });
    const waited = await app.request('/api/v1/deployments/shop/scale?wait=true&timeoutMs=5000', send('PUT', { instances: 1 }));
    assert.equal(waited.status, 200);
    assert.ok(scheduler.calls.some((c) => c.startsWith('waitReady shop 5000')));
    const tooLong = await app.request('/api/v1/deployments/shop/scale?wait=true&timeoutMs=999999', send('PUT', { instances: 1 }));
    assert.equal(tooLong.status, 400, 'the wait is bounded');
  });

  it('define and delete work with a define-capable scheduler', async () => {
    const app = appWith(createMemoryScheduler([], { define: true }));
    const put = await app.request('/api/v1/deployments/web', send('PUT', { command: 'node', args: ['server.js'], instances: 2, healthCheck: '/health' }));
    assert.equal(put.status, 202);
    assert.equal((await read(put)).desiredInstances, 2);
    const bad = await app.request('/api/v1/deployments/web', send('PUT', { command: 'node', healthCheck: 'health' }));
    assert.equal(bad.status, 400);
    const definition = await app.request('/api/v1/deployments/web/definition');
    assert.equal(definition.status, 200);
    // The route validated the body, so the scheduler was given (and keeps) the defaults too.
    assert.deepEqual(await read(definition), {
      command: 'node',
      args: ['server.js'],
      env: {},
      instances: 2,
      healthCheck: '/health',
      labels: {},
      annotations: {},
    });
    assert.equal((await app.request('/api/v1/deployments/web', { method: 'DELETE' })).status, 204);
    assert.equal((await app.request('/api/v1/deployments/web/definition')).status, 404, 'removed with the deployment');
    assert.equal((await app.request('/api/v1/deployments/web', { method: 'DELETE' })).status, 404);
  });

  it('define and delete on a scheduler without the ability are 400 with a clear message', async () => {
    const app = appWith(createMemoryScheduler([{ name: 'shop' }]));
    const put = await app.request('/api/v1/deployments/shop', send('PUT', { command: 'node' }));
    assert.equal(put.status, 400);
    const body = await read(put);
    assert.equal(body.code, 'SCHEDULER.INVALID');
    assert.match(body.message, /only possible with the local scheduler \(VEER_SCHEDULER=local\)/);
    assert.equal((await app.request('/api/v1/deployments/shop', { method: 'DELETE' })).status, 400);
    const definition = await app.request('/api/v1/deployments/shop/definition');
    assert.equal(definition.status, 400);
    assert.match((await read(definition)).message, /reading a deployment's definition is only possible with the local scheduler/);
  });

  it('describes its routes in the OpenAPI document', async () => {
    const doc = await read(appWith(createMemoryScheduler([])).request('/api/v1/openapi.json'));
    for (const p of ['/api/v1/deployments', '/api/v1/deployments/{name}', '/api/v1/deployments/{name}/scale', '/api/v1/deployments/{name}/definition'])
      assert.ok(doc.paths[p], p);
  });
});

describe('deployments API over the Kubernetes driver: scheduler errors become statuses', () => {
  let api: KubernetesDouble;
  before(async () => {
    api = await startKubernetesDouble({ tokens: { admin: 'admin', viewer: 'read' } });
    api.model.addDeployment('default', { name: 'shop', replicas: 1 });
  });
  after(() => api.close());
  const k8sApp = (token: string, server = api.url) =>
    appWith(createKubernetesDriver({ connection: { type: 'options', server, token, skipTLSVerify: true }, namespace: 'default', pollIntervalMs: 20 }));

  it('scale with ?wait=true rolls out and answers with the ready deployment', async () => {
    const res = await k8sApp('admin').request('/api/v1/deployments/shop/scale?wait=true', send('PUT', { instances: 3 }));
    assert.equal(res.status, 200);
    const d = await read(res);
    assert.equal(d.status, 'ready');
    assert.equal(d.readyInstances, 3);
  });

  it('403 from Kubernetes is 403 SCHEDULER.FORBIDDEN; an unreachable API server is 503', async () => {
    const denied = await k8sApp('viewer').request('/api/v1/deployments/shop/scale', send('PUT', { instances: 2 }));
    assert.equal(denied.status, 403);
    assert.equal((await read(denied)).code, 'SCHEDULER.FORBIDDEN');
    const down = await k8sApp('admin', `http://127.0.0.1:${await freePort()}`).request('/api/v1/deployments');
    assert.equal(down.status, 503);
    assert.equal((await read(down)).code, 'SCHEDULER.UNAVAILABLE');
  });
});
