import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

// GET /api/v1/deployments/{name}/definition on the local scheduler: the whole definition (env
// included) in the PUT body's shape, for admin tokens only. No engine runs, so no supervisor
// starts a process: the definitions are only stored and compared.
const SECRETS = {
  viewer: 'viewer-secret-0123456789',
  writer: 'writer-secret-0123456789',
  root: 'root-secret-0123456789',
  dbadmin: 'dbadmin-secret-0123456789',
};
const bearer = (name: keyof typeof SECRETS) => ({ authorization: `Bearer ${SECRETS[name]}` });

describe('GET /api/v1/deployments/{name}/definition', () => {
  let t: TestSystem;
  let dir: string;
  const spec = {
    command: process.execPath,
    args: ['server.js'],
    env: { DB_PASSWORD: 'hunter2-0123456789' },
    instances: 0,
    healthCheck: '/healthz',
    cwd: tmpdir(),
    labels: { app: 'shop' },
    annotations: { 'veer.io/source': 'shop/web.yaml#1' },
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veer-definition-'));
    const file = join(dir, 'tokens');
    writeFileSync(
      file,
      Object.entries(SECRETS)
        .map(([name, secret]) =>
          name === 'dbadmin' ? `${name}:admin:db-*:${secret}` : `${name}:${name === 'root' ? 'admin' : name === 'writer' ? 'write' : 'read'}:${secret}`,
        )
        .join('\n'),
    );
    t = await startTestSystem({ engine: false, env: { VEER_API_TOKENS_FILE: file, VEER_SCHEDULER: 'local' } });
    assert.equal((await t.call('PUT', '/api/v1/deployments/web', spec, bearer('root'))).status, 202);
  });
  after(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers an admin the definition as PUT took it, env included; PUT back, a dry run says unchanged', async () => {
    const res = await t.call('GET', '/api/v1/deployments/web/definition', undefined, bearer('root'));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, spec);
    const again = await t.call('PUT', '/api/v1/deployments/web?dryRun=true', res.body, bearer('root'));
    assert.equal(again.status, 200);
    assert.equal(again.body.outcome, 'unchanged');
  });

  it('fills in the defaults PUT applied, so a minimal definition reads back in the whole PUT shape', async () => {
    assert.equal((await t.call('PUT', '/api/v1/deployments/bare', { command: 'true', instances: 0 }, bearer('root'))).status, 202);
    const res = await t.call('GET', '/api/v1/deployments/bare/definition', undefined, bearer('root'));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { command: 'true', args: [], env: {}, instances: 0, labels: {}, annotations: {} });
  });

  it('shows the instance count a scale set, so the definition still PUTs back unchanged', async () => {
    assert.equal((await t.call('PUT', '/api/v1/deployments/web/scale', { instances: 2 }, bearer('writer'))).status, 202);
    try {
      const res = await t.call('GET', '/api/v1/deployments/web/definition', undefined, bearer('root'));
      assert.deepEqual(res.body, { ...spec, instances: 2 });
      assert.equal((await t.call('PUT', '/api/v1/deployments/web?dryRun=true', res.body, bearer('root'))).body.outcome, 'unchanged');
    } finally {
      await t.call('PUT', '/api/v1/deployments/web/scale', { instances: 0 }, bearer('writer'));
    }
  });

  it('needs admin: a read or write token is refused (403 naming the scope), never shown the env', async () => {
    for (const who of ['viewer', 'writer'] as const) {
      const res = await t.call('GET', '/api/v1/deployments/web/definition', undefined, bearer(who));
      assert.equal(res.status, 403, who);
      assert.equal(res.body.code, 'FORBIDDEN');
      assert.match(res.body.message, /needs 'admin'/);
      assert.doesNotMatch(JSON.stringify(res.body), /hunter2/);
    }
    // The plain read stays open to read tokens, without env.
    const plain = await t.call('GET', '/api/v1/deployments/web', undefined, bearer('viewer'));
    assert.equal(plain.status, 200);
    assert.doesNotMatch(JSON.stringify(plain.body), /hunter2/);
  });

  it("an admin token limited by globs reads only its own deployments' definitions", async () => {
    const res = await t.call('GET', '/api/v1/deployments/web/definition', undefined, bearer('dbadmin'));
    assert.equal(res.status, 403);
    assert.match(res.body.message, /deployments\/web is outside them/);
    assert.doesNotMatch(JSON.stringify(res.body), /hunter2/);
    // Other reads stay governed by the scope alone.
    assert.equal((await t.call('GET', '/api/v1/deployments/web', undefined, bearer('dbadmin'))).status, 200);
  });

  it('is 404 for an unknown deployment', async () => {
    const res = await t.call('GET', '/api/v1/deployments/nope/definition', undefined, bearer('root'));
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'SCHEDULER.NOT_FOUND');
  });

  it('is described in the OpenAPI document, with the admin scope named', async () => {
    const doc = await t.call('GET', '/api/v1/openapi.json');
    const op = doc.body.paths['/api/v1/deployments/{name}/definition']?.get;
    assert.ok(op, 'documented');
    assert.match(`${op.summary} ${op.description}`, /admin/);
    assert.ok(op.responses['200'] && op.responses['404'] && op.responses['400']);
  });
});
