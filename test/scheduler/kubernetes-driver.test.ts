import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKubernetesDriver, ANNOTATION_CONTAINER, ANNOTATION_SERVICE } from '../../adapters/scheduler/kubernetes.ts';
import { freePort } from '../helpers/free-port.ts';
import { startKubernetesDouble, type KubernetesDouble } from '../doubles/kubernetes.ts';

describe('kubernetes driver: wire format and error mapping', () => {
  let api: KubernetesDouble;
  const ns = 'prod';
  const connect = (token: string) =>
    createKubernetesDriver({ connection: { type: 'options', server: api.url, token, skipTLSVerify: true }, namespace: ns, pollIntervalMs: 20 });
  before(async () => {
    api = await startKubernetesDouble({ tokens: { admin: 'admin', viewer: 'read' } });
    api.model.addDeployment(ns, { name: 'shop', replicas: 2 });
    api.model.addDeployment(ns, {
      name: 'cart',
      replicas: 1,
      sidecars: ['proxy'],
      annotations: { [ANNOTATION_CONTAINER]: 'proxy', [ANNOTATION_SERVICE]: 'cart-public' },
      service: 'cart-public',
    });
    api.model.addDeployment(ns, { name: 'hidden', replicas: 1, service: false });
    api.model.addDeployment(ns, { name: 'dual', replicas: 2, ipFamilies: ['IPv4', 'IPv6'], fqdnSlice: true });
    api.model.addDeployment(ns, { name: 'six', replicas: 1, ipFamilies: ['IPv6'] });
    // Stored canonically by the double: '12e-3', '1e9' (exponents stay), '100u', '1Pi'.
    api.model.addDeployment(ns, { name: 'exp', replicas: 1, cpu: '12e-3', memory: '1e9' });
    api.model.addDeployment(ns, { name: 'tiny', replicas: 1, cpu: '0.0001', memory: '1024Ti' });
  });
  after(() => api.close());

  it('scales instances through the scale subresource with a merge patch', async () => {
    api.requests.length = 0;
    await connect('admin').scale('shop', { instances: 3 });
    const patch = api.requests.find((r) => r.method === 'PATCH');
    assert.deepEqual(patch, {
      method: 'PATCH',
      path: `/apis/apps/v1/namespaces/${ns}/deployments/shop/scale`,
      contentType: 'application/merge-patch+json',
      authorization: 'Bearer admin',
    });
    assert.equal(api.model.deployment(ns, 'shop').spec.replicas, 3);
  });

  it('sets cpu/memory requests and limits on the annotated container with a json patch, leaving others alone', async () => {
    const d = await connect('admin').scale('cart', { cpu: 1.5, memory: '1Gi' });
    assert.equal(d.cpu, 1.5);
    assert.equal(d.memory, 1024 ** 3);
    const [main, proxy] = api.model.deployment(ns, 'cart').spec.template.spec.containers;
    // The driver writes 1024Mi; the API server stores (and returns) the canonical 1Gi.
    assert.deepEqual(proxy.resources, { requests: { cpu: '1500m', memory: '1Gi' }, limits: { cpu: '1500m', memory: '1Gi' } });
    assert.deepEqual(main.resources, { requests: {} });
    assert.ok(api.requests.some((r) => r.method === 'PATCH' && r.path.endsWith('/deployments/cart') && r.contentType === 'application/json-patch+json'));
  });

  it('takes endpoints from the EndpointSlices of the annotated service; none without a service', async () => {
    const cart = await connect('admin').waitReady('cart', { timeoutMs: 10_000 });
    assert.equal(cart.endpoints.length, 1);
    assert.deepEqual(Object.keys(cart.endpoints[0]).sort(), ['host', 'name', 'port', 'ready']);
    assert.equal(cart.endpoints[0].name, 'http');
    assert.deepEqual((await connect('admin').get('hidden')).endpoints, []);
  });

  it('dual-stack services: one endpoint per pod from the IPv4 slice, not the IPv6 or FQDN ones', async () => {
    const d = await connect('admin').get('dual');
    assert.equal(d.endpoints.length, 2, JSON.stringify(d.endpoints));
    assert.ok(
      d.endpoints.every((e) => /^\d+\.\d+\.\d+\.\d+$/.test(e.host)),
      JSON.stringify(d.endpoints),
    );
    const listed = (await connect('admin').list()).find((x) => x.name === 'dual')!;
    assert.deepEqual(listed.endpoints, d.endpoints);
  });

  it('IPv6 single-stack services keep their IPv6 endpoints, the bare address as host', async () => {
    const [ep, ...rest] = (await connect('admin').get('six')).endpoints;
    assert.equal(rest.length, 0);
    assert.match(ep.host, /^fd00:[0-9a-f:]+$/);
    assert.equal(ep.port, 8080);
  });

  it('reads resources in every canonical quantity form (exponents, micro, Pi)', async () => {
    assert.equal(api.model.deployment(ns, 'exp').spec.template.spec.containers[0].resources.requests.memory, '1e9');
    const exp = await connect('admin').get('exp');
    assert.equal(exp.cpu, 0.012);
    assert.equal(exp.memory, 1e9);
    assert.deepEqual(api.model.deployment(ns, 'tiny').spec.template.spec.containers[0].resources.requests, { cpu: '100u', memory: '1Pi' });
    const tiny = await connect('admin').get('tiny');
    assert.equal(tiny.cpu, 0.0001);
    assert.equal(tiny.memory, 1024 ** 5);
  });

  it('reports a stuck rollout (ProgressDeadlineExceeded) as degraded', async () => {
    api.model.addDeployment(ns, { name: 'stuck', replicas: 1 });
    api.model.stall(ns, 'stuck');
    assert.equal((await connect('admin').get('stuck')).status, 'degraded');
  });

  it('403 becomes SCHEDULER.FORBIDDEN naming deployment, namespace and the RBAC to grant', async () => {
    await assert.rejects(connect('viewer').scale('shop', { instances: 1 }), (err: any) => {
      assert.equal(err.code, 'SCHEDULER.FORBIDDEN');
      assert.match(err.message, /^kubernetes: deployment 'shop' in namespace 'prod' is forbidden \(403\): grant .*deployments\/scale/);
      return true;
    });
    await assert.rejects(connect('wrong').get('shop'), (err: any) => err.code === 'SCHEDULER.FORBIDDEN' && /unauthenticated \(401\)/.test(err.message));
  });

  it('404 becomes SCHEDULER.NOT_FOUND naming the namespace', async () => {
    await assert.rejects(
      connect('admin').get('nope'),
      (err: any) => err.code === 'SCHEDULER.NOT_FOUND' && /'nope' in namespace 'prod'.*VEER_KUBE_NAMESPACE/.test(err.message),
    );
  });

  it('409 becomes SCHEDULER.CONFLICT (retryable)', async () => {
    api.failNext({
      method: 'PATCH',
      path: /\/scale$/,
      status: 409,
      body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409, message: 'the object has been modified' },
    });
    await assert.rejects(
      connect('admin').scale('shop', { instances: 2 }),
      (err: any) => err.code === 'SCHEDULER.CONFLICT' && err.retryable === true && /'shop'/.test(err.message),
    );
  });

  it('an unreachable API server becomes SCHEDULER.UNAVAILABLE (retryable)', async () => {
    const port = await freePort();
    const driver = createKubernetesDriver({
      connection: { type: 'options', server: `http://127.0.0.1:${port}`, token: 't', skipTLSVerify: true },
      namespace: ns,
    });
    await assert.rejects(
      driver.list(),
      (err: any) => err.code === 'SCHEDULER.UNAVAILABLE' && err.retryable && /^kubernetes: .*could not be reached.*kubeconfig/.test(err.message),
    );
  });
});
