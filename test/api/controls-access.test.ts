import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

// The scopes of the release controls: sending a signal (promote, abort) is an operator's `run`
// action; pausing triggers and editing state change what every later run does, so `write`.
const SECRETS = {
  viewer: 'viewer-secret-0123456789',
  oncall: 'oncall-secret-0123456789',
  writer: 'writer-secret-0123456789',
  shop: 'shop-secret-0123456789',
  root: 'root-secret-0123456789',
};
const bearer = (name: keyof typeof SECRETS) => ({ authorization: `Bearer ${SECRETS[name]}` });
const script = 'export default async function () { return 1 }';

describe('release controls with scoped tokens', () => {
  let t: TestSystem;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veer-controls-'));
    const file = join(dir, 'tokens');
    writeFileSync(
      file,
      [
        `viewer:read:${SECRETS.viewer}`,
        `oncall:run:${SECRETS.oncall}`,
        `writer:write:${SECRETS.writer}`,
        `shop:write:shop-*:${SECRETS.shop}`,
        `root:admin:${SECRETS.root}`,
      ].join('\n'),
    );
    t = await startTestSystem({ engine: false, env: { VEER_API_TOKENS_FILE: file } });
    for (const name of ['billing', 'shop-canary']) assert.equal((await t.call('PUT', `/api/v1/workflows/${name}`, { script }, bearer('root'))).status, 200);
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets a read token list signals and state but change nothing', async () => {
    assert.equal((await t.call('GET', '/api/v1/workflows/billing/signals', undefined, bearer('viewer'))).status, 200);
    assert.equal((await t.call('GET', '/api/v1/workflows/billing/state', undefined, bearer('viewer'))).status, 200);
    const refused = await t.call('POST', '/api/v1/workflows/billing/signals', { name: 'promote' }, bearer('viewer'));
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /'viewer' has scope 'read'; POST \/api\/v1\/workflows\/billing\/signals needs 'run'/);
  });

  it('lets a run token signal, named as the sender, but not pause, resume or edit state', async () => {
    const sent = await t.call('POST', '/api/v1/workflows/billing/signals', { name: 'promote' }, bearer('oncall'));
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    assert.equal(sent.body.signal.sentBy, 'oncall');
    const calls: Array<[string, string, unknown]> = [
      ['POST', '/api/v1/workflows/billing/pause', {}],
      ['POST', '/api/v1/workflows/billing/resume', {}],
      ['PUT', '/api/v1/workflows/billing/state/step', 2],
      ['DELETE', '/api/v1/workflows/billing/state/step', undefined],
      ['DELETE', '/api/v1/workflows/billing/state', undefined],
    ];
    for (const [method, path, body] of calls) {
      const res = await t.call(method, path, body, bearer('oncall'));
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.match(res.body.message, /needs 'write'/);
    }
    assert.equal((await t.call('GET', '/api/v1/workflows/billing', undefined, bearer('oncall'))).body.paused, undefined);
  });

  it('lets a write token pause (named as who paused), resume and edit state', async () => {
    const paused = await t.call('POST', '/api/v1/workflows/billing/pause', { reason: 'incident 42' }, bearer('writer'));
    assert.equal(paused.status, 200);
    assert.equal(paused.body.paused.by, 'writer');
    assert.equal((await t.call('POST', '/api/v1/workflows/billing/resume', undefined, bearer('writer'))).status, 200);
    assert.equal((await t.call('PUT', '/api/v1/workflows/billing/state/step', 3, bearer('writer'))).status, 200);
    assert.equal((await t.call('DELETE', '/api/v1/workflows/billing/state/step', undefined, bearer('writer'))).status, 204);
    assert.equal((await t.call('DELETE', '/api/v1/workflows/billing/state', undefined, bearer('writer'))).status, 200);
  });

  it("keeps a glob-limited token to its workflows' controls", async () => {
    assert.equal((await t.call('POST', '/api/v1/workflows/shop-canary/pause', {}, bearer('shop'))).status, 200);
    assert.equal((await t.call('POST', '/api/v1/workflows/shop-canary/signals', { name: 'abort' }, bearer('shop'))).status, 201);
    assert.equal((await t.call('PUT', '/api/v1/workflows/shop-canary/state/step', 1, bearer('shop'))).status, 200);
    const calls: Array<[string, string, unknown]> = [
      ['POST', '/api/v1/workflows/billing/pause', {}],
      ['POST', '/api/v1/workflows/billing/signals', { name: 'abort' }],
      ['PUT', '/api/v1/workflows/billing/state/step', 1],
      ['DELETE', '/api/v1/workflows/billing/state', undefined],
    ];
    for (const [method, path, body] of calls) {
      const res = await t.call(method, path, body, bearer('shop'));
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.match(res.body.message, /workflows\/billing is outside them/);
    }
  });

  it('records every control call in the audit stream with the token that made it', async () => {
    await t.call('POST', '/api/v1/workflows/billing/signals', { name: 'promote-full' }, bearer('oncall'));
    const audit = await t.call('GET', '/api/v1/audit?limit=200', undefined, bearer('root'));
    assert.equal(audit.status, 200, JSON.stringify(audit.body));
    const entries = audit.body.entries as Array<{ actor: string; action: string; outcome: string }>;
    assert.ok(
      entries.some((e) => e.actor === 'oncall' && e.action === 'POST /api/v1/workflows/billing/signals' && e.outcome === 'ok'),
      JSON.stringify(entries.slice(0, 5)),
    );
    assert.ok(entries.some((e) => e.actor === 'oncall' && e.action === 'POST /api/v1/workflows/billing/pause' && e.outcome === 'refused'));
  });
});
