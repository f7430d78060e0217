import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRancherDriver } from '../../adapters/scheduler/rancher.ts';
import { freePort } from '../helpers/free-port.ts';
import { startRancherDouble, type RancherDouble } from '../doubles/rancher.ts';

describe('rancher driver: proxy path, token and error mapping', () => {
  let api: RancherDouble;
  const connect = (token: string, clusterId = 'c-1') =>
    createRancherDriver({ url: api.url + '/', token, clusterId, namespace: 'prod', insecureSkipTlsVerify: true, pollIntervalMs: 20 });
  before(async () => {
    api = await startRancherDouble({ clusterId: 'c-1', tokens: { 'token-a:s': 'admin', 'token-r:s': 'read' } });
    api.model.addDeployment('prod', { name: 'shop', replicas: 1 });
  });
  after(() => api.close());

  it('talks to /k8s/clusters/<id>/apis/... with the Rancher token as bearer', async () => {
    api.requests.length = 0;
    await connect('token-a:s').scale('shop', { instances: 2 });
    const patch = api.requests.find((r) => r.method === 'PATCH')!;
    assert.equal(patch.path, '/k8s/clusters/c-1/apis/apps/v1/namespaces/prod/deployments/shop/scale');
    assert.equal(patch.authorization, 'Bearer token-a:s');
  });

  it('a wrong token is SCHEDULER.FORBIDDEN (401) naming VEER_RANCHER_TOKEN and the cluster', async () => {
    await assert.rejects(
      connect('nope').get('shop'),
      (err: any) => err.code === 'SCHEDULER.FORBIDDEN' && /^rancher: .*401.*VEER_RANCHER_TOKEN.*cluster 'c-1'/.test(err.message),
    );
  });

  it('a read-only token gets SCHEDULER.FORBIDDEN (403) on scale', async () => {
    await assert.rejects(connect('token-r:s').scale('shop', { instances: 3 }), (err: any) => err.code === 'SCHEDULER.FORBIDDEN' && /\(403\)/.test(err.message));
  });

  it('an unknown deployment is SCHEDULER.NOT_FOUND; a 409 is SCHEDULER.CONFLICT', async () => {
    await assert.rejects(connect('token-a:s').get('cart'), { code: 'SCHEDULER.NOT_FOUND' });
    api.failNext({
      method: 'PATCH',
      status: 409,
      body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409, message: 'conflict' },
    });
    await assert.rejects(connect('token-a:s').scale('shop', { instances: 1 }), { code: 'SCHEDULER.CONFLICT' });
  });

  it('an unreachable Rancher is SCHEDULER.UNAVAILABLE naming VEER_RANCHER_URL', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const d = createRancherDriver({ url, token: 't', clusterId: 'c-1', namespace: 'prod', insecureSkipTlsVerify: true });
    await assert.rejects(d.list(), (err: any) => err.code === 'SCHEDULER.UNAVAILABLE' && /^rancher: .*VEER_RANCHER_URL/.test(err.message));
  });
});
