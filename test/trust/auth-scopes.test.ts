import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../boot/config.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

// Scoped tokens through the public API: each route needs its scope, globs limit what a token may
// change or run, and a refusal names the scope needed and the token's name, never its secret.
const SECRETS = {
  viewer: 'viewer-secret-0123456789',
  runner: 'runner-secret-0123456789',
  writer: 'writer-secret-0123456789',
  shop: 'shop-secret-0123456789',
  root: 'root-secret-0123456789',
};
const bearer = (name: keyof typeof SECRETS) => ({ authorization: `Bearer ${SECRETS[name]}` });
const script = 'export default async function () { return 1 }';

describe('scoped API tokens', () => {
  let t: TestSystem;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veer-tokens-'));
    const file = join(dir, 'tokens');
    writeFileSync(
      file,
      [
        '# name:scope[:globs]:token',
        `viewer:read:${SECRETS.viewer}`,
        `runner:run:${SECRETS.runner}`,
        `writer:write:${SECRETS.writer}`,
        '',
        `shop:write:shop-*:${SECRETS.shop}`,
        `root:admin:${SECRETS.root}`,
      ].join('\n'),
    );
    t = await startTestSystem({ engine: false, env: { VEER_API_TOKENS_FILE: file, VEER_API_TOKENS: 'legacy-token' } });
    assert.equal((await t.call('PUT', '/api/v1/workflows/billing', { script }, bearer('root'))).status, 200);
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets a read token read but not define, naming the scope needed and the token, never its secret', async () => {
    assert.equal((await t.call('GET', '/api/v1/workflows', undefined, bearer('viewer'))).status, 200);
    const res = await t.call('PUT', '/api/v1/workflows/hello', { script }, bearer('viewer'));
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'FORBIDDEN');
    assert.match(res.body.message, /'viewer'/);
    assert.match(res.body.message, /needs 'write'/);
    assert.ok(!JSON.stringify(res.body).includes(SECRETS.viewer), 'the secret is never echoed');
    assert.equal((await t.call('GET', '/api/v1/workflows/hello', undefined, bearer('root'))).status, 404, 'nothing was stored');
    assert.equal((await t.call('POST', '/api/v1/workflows/billing/runs', {}, bearer('viewer'))).status, 403);
  });

  it('lets a run token start and cancel runs but not define workflows or gateways', async () => {
    const started = await t.call('POST', '/api/v1/workflows/billing/runs', {}, bearer('runner'));
    assert.equal(started.status, 201);
    assert.equal((await t.call('POST', `/api/v1/runs/${started.body.id}/cancel`, {}, bearer('runner'))).status, 202);
    const put = await t.call('PUT', '/api/v1/workflows/billing', { script }, bearer('runner'));
    assert.equal(put.status, 403);
    assert.match(put.body.message, /'runner' has scope 'run'; PUT \/api\/v1\/workflows\/billing needs 'write'/);
    assert.equal((await t.call('DELETE', '/api/v1/workflows/billing', undefined, bearer('runner'))).status, 403);
    assert.equal((await t.call('PUT', '/api/v1/gateways/shop', { port: 19_090, routes: {} }, bearer('runner'))).status, 403);
  });

  it('keeps a glob-limited token to its names: refused on another workflow, its runs, and nameless mutations', async () => {
    assert.equal((await t.call('PUT', '/api/v1/workflows/shop-canary', { script }, bearer('shop'))).status, 200);
    const run = await t.call('POST', '/api/v1/workflows/shop-canary/runs', {}, bearer('shop'));
    assert.equal(run.status, 201);

    const other = await t.call('PUT', '/api/v1/workflows/billing', { script }, bearer('shop'));
    assert.equal(other.status, 403);
    assert.match(other.body.message, /'shop' is limited to shop-\*; workflows\/billing is outside them/);
    assert.equal((await t.call('DELETE', '/api/v1/workflows/billing', undefined, bearer('shop'))).status, 403);
    assert.equal((await t.call('POST', '/api/v1/workflows/billing/runs', {}, bearer('shop'))).status, 403);
    const billingRun = await t.call('POST', '/api/v1/workflows/billing/runs', {}, bearer('root'));
    assert.equal((await t.call('POST', `/api/v1/runs/${billingRun.body.id}/cancel`, {}, bearer('shop'))).status, 403, "another workflow's run");
    assert.equal((await t.call('POST', `/api/v1/runs/${run.body.id}/cancel`, {}, bearer('shop'))).status, 202, 'its own');
    assert.equal((await t.call('POST', '/api/v1/events', { tags: ['alerts'] }, bearer('shop'))).status, 403, 'an event names no resource');
    // Reads are governed by the scope alone.
    assert.equal((await t.call('GET', '/api/v1/workflows/billing', undefined, bearer('shop'))).status, 200);
  });

  it('refuses a glob-limited token a workflow that would grant its script more than the token may touch', async () => {
    const wide = await t.call('PUT', '/api/v1/workflows/shop-wide', { script, permissions: { gateways: ['*'] } }, bearer('shop'));
    assert.equal(wide.status, 403);
    assert.match(wide.body.message, /permissions\.gateways: \*/);
    const deps = await t.call('PUT', '/api/v1/workflows/shop-deps', { script, permissions: { deployments: { billing: { maxInstances: 3 } } } }, bearer('shop'));
    assert.equal(deps.status, 403);
    const narrow = await t.call('PUT', '/api/v1/workflows/shop-narrow', { script, permissions: { gateways: ['shop-eu', 'shop-a*'] } }, bearer('shop'));
    assert.equal(narrow.status, 200);
  });

  it('needs admin to define or remove a local deployment (a command on the host)', async () => {
    const spec = { command: 'definitely-not-run', instances: 0 };
    for (const who of ['writer', 'shop'] as const) {
      const res = await t.call('PUT', '/api/v1/deployments/web', spec, bearer(who));
      assert.equal(res.status, 403, who);
      assert.match(res.body.message, /needs 'admin'/);
      assert.equal((await t.call('DELETE', '/api/v1/deployments/web', undefined, bearer(who))).status, 403, who);
    }
    // Admin passes the access check; the body is then validated by the route (no process started).
    const bad = await t.call('PUT', '/api/v1/deployments/web', { instances: 'many' }, bearer('root'));
    assert.equal(bad.status, 400);
  });

  it('treats plain VEER_API_TOKENS as admin, answers 401 without a token, and keeps the OpenAPI document public', async () => {
    const legacy = { authorization: 'Bearer legacy-token' };
    assert.equal((await t.call('GET', '/api/v1/audit', undefined, legacy)).status, 200);
    assert.equal((await t.call('GET', '/api/v1/audit', undefined, bearer('writer'))).status, 403, 'the audit stream needs admin');
    assert.equal((await t.call('GET', '/api/v1/workflows')).status, 401);
    assert.equal((await t.call('GET', '/api/v1/workflows', undefined, { authorization: 'Bearer nope' })).status, 401);
    const doc = await t.call('GET', '/api/v1/openapi.json');
    assert.equal(doc.status, 200);
    assert.ok(doc.body.paths['/api/v1/audit']?.get, 'the audit route is documented');
    assert.ok(doc.body.paths['/api/v1/workflows/{name}'].put.responses['403'], '403 is documented');
  });
});

describe('token configuration', () => {
  it('stops start-up naming the file line of a bad token', () => {
    const dir = mkdtempSync(join(tmpdir(), 'veer-tokens-'));
    try {
      const file = join(dir, 'tokens');
      const cases: Array<[string, RegExp]> = [
        ['ok:read:aaaaaaaa\nbad:superuser:bbbbbbbb', /line 2: scope 'superuser' is not one of read, run, write, admin/],
        ['justatoken', /line 1: expected name:scope:token/],
        ['g:write:shop-(a|b):cccccccc', /line 1: glob 'shop-\(a\|b\)'/],
        ['a:read:dddddddd\na:write:eeeeeeee', /name 'a' is used twice/],
        [`x:read:${'f'.repeat(8)}\ny:admin:${'f'.repeat(8)}`, /same secret/],
      ];
      for (const [text, message] of cases) {
        writeFileSync(file, text);
        assert.throws(
          () => loadConfig({ VEER_API_TOKENS_FILE: file }),
          (err: Error & { code?: string }) => err.code === 'CONFIG' && /VEER_API_TOKENS_FILE/.test(err.message) && message.test(err.message),
          text,
        );
      }
      assert.throws(() => loadConfig({ VEER_API_TOKENS_FILE: join(dir, 'missing') }), /VEER_API_TOKENS_FILE: cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
