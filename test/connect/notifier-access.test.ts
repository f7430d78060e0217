import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

// Defining where events go is like defining a gateway: `write`; reading them is `read`.
const SECRETS = {
  viewer: 'viewer-secret-0123456789',
  oncall: 'oncall-secret-0123456789',
  writer: 'writer-secret-0123456789',
  shop: 'shop-secret-0123456789',
};
const bearer = (name: keyof typeof SECRETS) => ({ authorization: `Bearer ${SECRETS[name]}` });
const spec = { url: 'http://127.0.0.1:9/hook', events: { tags: ['alerts'] }, secret: 'a-long-enough-signing-secret' };

describe('notifier access', () => {
  let t: TestSystem;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veer-notifiers-'));
    const file = join(dir, 'tokens');
    writeFileSync(
      file,
      [`viewer:read:${SECRETS.viewer}`, `oncall:run:${SECRETS.oncall}`, `writer:write:${SECRETS.writer}`, `shop:write:shop-*:${SECRETS.shop}`].join('\n'),
    );
    t = await startTestSystem({ engine: false, env: { VEER_API_TOKENS_FILE: file } });
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('needs write to define or delete a notifier; read shows it without its secret', async () => {
    for (const who of ['viewer', 'oncall', 'shop'] as const) {
      const res = await t.call('PUT', '/api/v1/notifiers/shop-alerts', spec, bearer(who));
      assert.equal(res.status, 403, `${who}: ${JSON.stringify(res.body)}`);
    }
    assert.equal((await t.call('PUT', '/api/v1/notifiers/shop-alerts', spec, bearer('writer'))).status, 201);
    const got = await t.call('GET', '/api/v1/notifiers/shop-alerts', undefined, bearer('viewer'));
    assert.equal(got.status, 200);
    assert.equal(got.body.hasSecret, true);
    assert.equal(JSON.stringify(got.body).includes(spec.secret), false);
    assert.equal((await t.call('GET', '/api/v1/notifiers/shop-alerts/deliveries', undefined, bearer('viewer'))).status, 200);
    assert.equal((await t.call('DELETE', '/api/v1/notifiers/shop-alerts', undefined, bearer('oncall'))).status, 403);
    assert.equal((await t.call('DELETE', '/api/v1/notifiers/shop-alerts', undefined, bearer('writer'))).status, 204);
  });

  it('documents the routes and the signature in the OpenAPI document', async () => {
    const doc = await t.call('GET', '/api/v1/openapi.json', undefined, bearer('viewer'));
    assert.equal(doc.status, 200);
    const paths = doc.body.paths;
    assert.match(paths['/api/v1/notifiers/{name}'].put.description, /X-Veer-Signature: sha256=/);
    for (const status of ['200', '201', '400']) assert.ok(paths['/api/v1/notifiers/{name}'].put.responses[status], `PUT documents ${status}`);
    assert.ok(paths['/api/v1/notifiers/{name}'].delete.responses['404']);
    assert.ok(paths['/api/v1/notifiers'].get);
    assert.ok(paths['/api/v1/notifiers/{name}/deliveries'].get.responses['404']);
  });
});
