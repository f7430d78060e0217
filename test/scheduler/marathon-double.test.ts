import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMarathonDouble, type MarathonDouble } from '../doubles/marathon.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * The Marathon double's write semantics, checked directly: the driver tests only see the paths
 * the driver takes, and a double that is kinder than Marathon hides driver bugs (a PUT that
 * 404s instead of creating the app hid a misspelt-name bug). Sources in test/doubles/marathon.ts.
 */
describe('marathon double: PUT creates, PATCH does not, validation and locks as Marathon 1.x', () => {
  let api: MarathonDouble;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(api.url + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };
  before(async () => {
    api = await startMarathonDouble();
    api.addApp({ id: '/shop', instances: 1 });
  });
  after(() => api.close());

  it('PUT of only {instances} to a missing app is a 422 for the missing cmd/args/container, and creates nothing', async () => {
    const r = await call('PUT', '/v2/apps/shpo', { instances: 3 });
    assert.equal(r.status, 422);
    assert.deepEqual(r.body, {
      message: 'Object is not valid',
      details: [{ path: '/', errors: ["AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."] }],
    });
    assert.equal(api.app('/shpo'), undefined);
  });

  it('PUT of a complete definition to a missing app creates it (201, Location, Marathon-Deployment-Id)', async () => {
    const r = await call('PUT', '/v2/apps/new', { cmd: 'sleep 100', instances: 1 });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('location'), '/new');
    assert.equal(r.headers.get('marathon-deployment-id'), r.body.deploymentId);
    assert.equal(api.app('/new').cmd, 'sleep 100');
    await waitFor(() => api.appTasks('/new').length === 1, { what: 'the created app to start its task' });
  });

  it('PATCH of a missing app is a 404 naming it', async () => {
    const r = await call('PATCH', '/v2/apps/missing', { instances: 1 });
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { message: "App '/missing' does not exist" });
  });

  it('PATCH and PUT of an existing app are partial; PUT ?partialUpdate=false validates a complete definition', async () => {
    await waitFor(async () => (await call('GET', '/v2/deployments')).body.length === 0, { what: 'no deployment running' });
    const r = await call('PATCH', '/v2/apps/shop', { instances: 2 });
    assert.equal(r.status, 200);
    assert.equal(api.app('/shop').instances, 2);
    assert.ok(api.app('/shop').container.docker.image, 'the rest of the app is kept');
    assert.equal((await call('PUT', '/v2/apps/shop?force=true', { instances: 1 })).status, 200);
    assert.equal(api.app('/shop').instances, 1);
    const full = await call('PUT', '/v2/apps/shop?partialUpdate=false&force=true', { instances: 2 });
    assert.equal(full.status, 422);
  });

  it('a write while a deployment runs is a 409 listing it, unless ?force=true', async () => {
    await call('PATCH', '/v2/apps/shop?force=true', { instances: 3 });
    const locked = await call('PATCH', '/v2/apps/shop', { instances: 1 });
    assert.equal(locked.status, 409);
    assert.match(locked.body.message, /^App is locked by one or more deployments\. Override with the option '\?force=true'/);
    assert.equal(locked.body.deployments.length, 1);
    assert.equal((await call('PATCH', '/v2/apps/shop?force=true', { instances: 1 })).status, 200);
  });
});
