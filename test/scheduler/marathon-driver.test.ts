import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMarathonDriver } from '../../adapters/scheduler/marathon.ts';
import { freePort } from '../helpers/free-port.ts';
import { startMarathonDouble, type MarathonDouble } from '../doubles/marathon.ts';

describe('marathon driver: wire format and error mapping', () => {
  let api: MarathonDouble;
  const connect = (token?: string) => createMarathonDriver({ url: api.url, token, group: '/prod', pollIntervalMs: 20 });
  before(async () => {
    api = await startMarathonDouble({ tokens: { ops: 'admin', viewer: 'read' } });
    api.addApp({ id: '/prod/shop', instances: 2, cpus: 1, mem: 512 });
    api.addApp({ id: '/prod/nested/other' });
    api.addApp({ id: '/staging/shop' });
    api.addApp({ id: '/prod/overlay', instances: 2, network: 'container' });
    api.addApp({ id: '/prod/bridged', instances: 1, network: 'container/bridge' });
  });
  after(() => api.close());

  it('PATCHes only the changed fields, mem in MiB, with DC/OS token auth', async () => {
    api.requests.length = 0;
    const d = await connect('ops').scale('shop', { cpu: 0.5, memory: '1Gi' });
    const patch = api.requests.find((r) => r.method === 'PATCH')!;
    assert.equal(patch.path, '/v2/apps/prod/shop');
    assert.equal(patch.authorization, 'token=ops');
    assert.ok(!api.requests.some((r) => r.method === 'PUT'), 'PUT would create a misspelt app');
    assert.equal(api.app('/prod/shop').mem, 1024);
    assert.equal(api.app('/prod/shop').instances, 2, 'instances untouched');
    assert.equal(d.cpu, 0.5);
    assert.equal(d.memory, 1024 ** 3);
    await connect('ops').waitReady('shop', { timeoutMs: 10_000 });
    assert.ok(
      api.requests.some((r) => r.method === 'GET' && r.path === '/v2/deployments'),
      'follows /v2/deployments',
    );
  });

  it('lists only the direct children of the group; endpoints come from healthy tasks with port names', async () => {
    const all = await connect('ops').list();
    assert.deepEqual(all.map((d) => d.name).sort(), ['bridged', 'overlay', 'shop']);
    const [ep] = all.find((d) => d.name === 'shop')!.endpoints;
    assert.equal(ep.host, '127.0.0.1');
    assert.equal(ep.name, 'http');
    assert.equal(ep.ready, true);
  });

  it('container-network apps: endpoints are the task IPs at the containerPort, not the agent', async () => {
    const d = await connect('ops').get('overlay');
    const tasks = api.appTasks('/prod/overlay');
    assert.equal(d.endpoints.length, 2, JSON.stringify(d.endpoints));
    assert.deepEqual(d.endpoints.map((e) => `${e.host}:${e.port}/${e.name}`).sort(), tasks.map((t) => `${t.ipAddresses[0].ipAddress}:8080/http`).sort());
    assert.ok(d.endpoints.every((e) => e.host !== '127.0.0.1' && e.ready));
  });

  it('bridge-mode apps keep the agent host and the mapped host port', async () => {
    const [ep, ...rest] = (await connect('ops').get('bridged')).endpoints;
    const [task] = api.appTasks('/prod/bridged');
    assert.equal(rest.length, 0);
    assert.deepEqual(ep, { host: task.host, port: task.ports[0], ready: true, name: 'http' });
  });

  it('a scale of a misspelt app is SCHEDULER.NOT_FOUND naming the app, and creates nothing', async () => {
    await assert.rejects(connect('ops').scale('shpo', { instances: 3 }), (err: any) => {
      assert.equal(err.code, 'SCHEDULER.NOT_FOUND');
      assert.match(err.message, /^marathon: deployment 'shpo' \(app '\/prod\/shpo'\) does not exist: .*VEER_MARATHON_GROUP/);
      return true;
    });
    assert.equal(api.app('/prod/shpo'), undefined);
  });

  it('a 422 names what Marathon found invalid', async () => {
    api.failNext({
      method: 'PATCH',
      status: 422,
      body: { message: 'Object is not valid', details: [{ path: '/mem', errors: ['got 0, expected more than 0'] }] },
    });
    await assert.rejects(connect('ops').scale('shop', { instances: 2 }), (err: any) => {
      assert.equal(err.code, 'SCHEDULER.INVALID');
      assert.match(err.message, /Object is not valid \(\/mem: got 0, expected more than 0\)/);
      assert.deepEqual(err.details.issues, [{ path: '/mem', errors: ['got 0, expected more than 0'] }]);
      return true;
    });
  });

  it('401 and 403 become SCHEDULER.FORBIDDEN pointing at VEER_MARATHON_TOKEN', async () => {
    await assert.rejects(
      connect().get('shop'),
      (err: any) => err.code === 'SCHEDULER.FORBIDDEN' && /unauthenticated \(401\).*VEER_MARATHON_TOKEN/.test(err.message),
    );
    await assert.rejects(connect('viewer').scale('shop', { instances: 3 }), (err: any) => {
      assert.equal(err.code, 'SCHEDULER.FORBIDDEN');
      assert.match(err.message, /^marathon: deployment 'shop' \(app '\/prod\/shop'\) is forbidden \(403\)/);
      return true;
    });
  });

  it('404 becomes SCHEDULER.NOT_FOUND naming the app id and group', async () => {
    await assert.rejects(
      connect('ops').get('cart'),
      (err: any) => err.code === 'SCHEDULER.NOT_FOUND' && /app '\/prod\/cart'.*VEER_MARATHON_GROUP/.test(err.message),
    );
  });

  it('a scale while a Marathon deployment runs becomes SCHEDULER.CONFLICT naming the deployment', async () => {
    const driver = connect('ops');
    await driver.scale('shop', { instances: 3 });
    await assert.rejects(
      driver.scale('shop', { instances: 1 }),
      (err: any) => err.code === 'SCHEDULER.CONFLICT' && err.retryable && /locked by a running Marathon deployment \(.+\)/.test(err.message),
    );
    await driver.waitReady('shop', { timeoutMs: 10_000 });
  });

  it('an unreachable Marathon becomes SCHEDULER.UNAVAILABLE naming VEER_MARATHON_URL', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    await assert.rejects(
      createMarathonDriver({ url }).get('shop'),
      (err: any) => err.code === 'SCHEDULER.UNAVAILABLE' && err.message.includes(`VEER_MARATHON_URL (now ${url})`),
    );
  });
});
