import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/**
 * The dashboard's login: a token exchanged for an httpOnly, SameSite=Strict cookie that works
 * like the token (its scope, looked up by name), CSRF-checked on every mutating request, ended by
 * logout; and the dashboard's files served beside the API.
 */
const ADMIN = 'admin-secret-0123456789';
const sessionHash = (id: string) => createHash('sha256').update(id).digest('hex');
const VIEWER = 'viewer-secret-0123456789';

describe('dashboard sessions', () => {
  let t: TestSystem;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veer-session-'));
    writeFileSync(join(dir, 'tokens'), [`root:admin:${ADMIN}`, `viewer:read:${VIEWER}`].join('\n'));
    t = await startTestSystem({ engine: false, env: { VEER_API_TOKENS_FILE: join(dir, 'tokens') } });
  });
  after(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Logs in and returns the cookie header to send back and the session's CSRF token. */
  async function login(token: string) {
    const res = await t.call('POST', '/api/v1/session', { token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const setCookie = res.headers.get('set-cookie') ?? '';
    return { setCookie, cookie: setCookie.split(';')[0]!, csrf: res.body.csrf as string, body: res.body };
  }

  it('exchanges a token for an httpOnly, SameSite=Strict cookie that acts with the token scope', async () => {
    const s = await login(ADMIN);
    assert.match(s.setCookie, /^veer_session=[\w-]{40,};/);
    assert.match(s.setCookie, /HttpOnly/i);
    assert.match(s.setCookie, /SameSite=Strict/i);
    assert.match(s.setCookie, /Path=\//);
    assert.equal(s.body.name, 'root');
    assert.equal(s.body.scope, 'admin');
    assert.equal(s.body.via, 'session');
    const me = await t.call('GET', '/api/v1/session', undefined, { cookie: s.cookie });
    assert.equal(me.status, 200);
    assert.deepEqual(
      { name: me.body.name, scope: me.body.scope, via: me.body.via, csrf: me.body.csrf },
      { name: 'root', scope: 'admin', via: 'session', csrf: s.csrf },
    );
    assert.equal((await t.call('GET', '/api/v1/workflows', undefined, { cookie: s.cookie })).status, 200);
    // Redis holds a hash of the cookie, never the cookie itself (keys named exactly: KEYS would see one node of a cluster).
    const id = s.cookie.split('=')[1]!;
    assert.equal(await t.redisClient.exists(t.keys.session(sessionHash(id))), 1);
    assert.equal(await t.redisClient.exists(t.keys.session(id)), 0);
  });

  it('refuses a wrong token with 401 and sets no cookie', async () => {
    const res = await t.call('POST', '/api/v1/session', { token: 'not-a-token-0000000000' });
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'UNAUTHORIZED');
    assert.equal(res.headers.get('set-cookie'), null);
    assert.equal((await t.call('POST', '/api/v1/session', {})).body.details.issues[0].path, 'token');
  });

  it('checks CSRF on mutating requests: the header is required, another Origin is refused', async () => {
    const s = await login(ADMIN);
    const body = { script: 'export default async function () { return 1 }' };
    const bare = await t.call('PUT', '/api/v1/workflows/csrf-wf', body, { cookie: s.cookie });
    assert.equal(bare.status, 403);
    assert.equal(bare.body.code, 'CSRF');
    assert.match(bare.body.message, /x-veer-csrf/);
    const wrong = await t.call('PUT', '/api/v1/workflows/csrf-wf', body, { cookie: s.cookie, 'x-veer-csrf': 'guess' });
    assert.equal(wrong.body.code, 'CSRF');
    const foreign = await t.call('PUT', '/api/v1/workflows/csrf-wf', body, { cookie: s.cookie, 'x-veer-csrf': s.csrf, origin: 'http://evil.example' });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.code, 'CSRF');
    const ok = await t.call('PUT', '/api/v1/workflows/csrf-wf', body, { cookie: s.cookie, 'x-veer-csrf': s.csrf, origin: 'http://localhost' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    // The audit names the token behind the session.
    const audit = await t.call('GET', '/api/v1/audit?resource=workflows/csrf-wf', undefined, { authorization: `Bearer ${ADMIN}` });
    assert.equal(audit.body.entries[0].actor, 'root');
    // Bearer requests are not CSRF-checked: no browser sends a bearer header on its own.
    assert.equal((await t.call('DELETE', '/api/v1/workflows/csrf-wf', undefined, { authorization: `Bearer ${ADMIN}` })).status, 204);
  });

  it("a read-only token's session reads but is refused what its scope does not cover", async () => {
    const s = await login(VIEWER);
    assert.equal(s.body.scope, 'read');
    assert.equal((await t.call('GET', '/api/v1/workflows', undefined, { cookie: s.cookie })).status, 200);
    const put = await t.call(
      'PUT',
      '/api/v1/workflows/viewer-wf',
      { script: 'export default async function () {}' },
      { cookie: s.cookie, 'x-veer-csrf': s.csrf },
    );
    assert.equal(put.status, 403);
    assert.equal(put.body.code, 'FORBIDDEN');
  });

  it('logout forgets the session: the cookie no longer authenticates', async () => {
    const s = await login(ADMIN);
    const out = await t.call('DELETE', '/api/v1/session', undefined, { cookie: s.cookie, 'x-veer-csrf': s.csrf });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /veer_session=;.*Max-Age=0/i);
    const after = await t.call('GET', '/api/v1/workflows', undefined, { cookie: s.cookie });
    assert.equal(after.status, 401);
    assert.match(after.body.message, /log in again/);
  });

  it('a session whose token was removed from the configuration no longer authenticates', async () => {
    await t.system.sessions.create('orphan-session-id-0123456789', {
      tokenName: 'removed-token',
      csrf: 'x',
      createdAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    assert.equal((await t.call('GET', '/api/v1/workflows', undefined, { cookie: 'veer_session=orphan-session-id-0123456789' })).status, 401);
  });

  it('expires in Redis after VEER_SESSION_TTL_MS', async () => {
    const s = await login(ADMIN);
    const ttl = await t.redisClient.pttl(t.keys.session(sessionHash(s.cookie.split('=')[1]!)));
    assert.ok(ttl > 0 && ttl <= 12 * 3600_000, `ttl ${ttl}`);
    assert.match(s.setCookie, /Max-Age=43200/);
  });
});

describe('dashboard login rate limit', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ engine: false, env: { VEER_API_TOKENS: ADMIN } });
  });
  after(async () => {
    await t?.stop();
  });

  it('answers 429 RATE_LIMITED with Retry-After after 10 failed logins, even for the right token', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await t.call('POST', '/api/v1/session', { token: `wrong-${i}-000000000000` })).status, 401);
    const limited = await t.call('POST', '/api/v1/session', { token: ADMIN });
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'RATE_LIMITED');
    const wait = Number(limited.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 60, `retry-after ${wait}`);
  });
});

describe('the dashboard files', () => {
  let t: TestSystem;
  let ui: string;
  before(async () => {
    ui = mkdtempSync(join(tmpdir(), 'veer-ui-'));
    writeFileSync(join(ui, 'index.html'), '<!doctype html><title>Veer</title><div id="app"></div>');
    t = await startTestSystem({ engine: false, env: { VEER_UI_DIR: ui } });
  });
  after(async () => {
    await t?.stop();
    rmSync(ui, { recursive: true, force: true });
  });

  it('serves the page at / and at every page path, with a CSP that allows only this origin', async () => {
    for (const path of ['/', '/workflows/shop', '/runs?status=failed']) {
      const res = await t.app.request(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await res.text(), /<div id="app">/);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'.*frame-ancestors 'none'/);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
    }
  });

  it('answers 404 for a missing asset and never serves files outside its directory', async () => {
    assert.equal((await t.app.request('/assets/gone-123.js')).status, 404);
    for (const path of ['/..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd.txt']) {
      const res = await t.app.request(path);
      assert.doesNotMatch(await res.text(), /root:/, path);
    }
  });

  it('leaves /api alone: an unknown API path is the JSON 404', async () => {
    const res = await t.call('GET', '/api/v1/nothing-here');
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'NOT_FOUND');
  });

  it('says how to build it when it is not built', async () => {
    const bare = await startTestSystem({ engine: false, redis: t.redis, env: { VEER_UI_DIR: join(ui, 'missing') } });
    try {
      const res = await bare.app.request('/');
      assert.equal(res.status, 503);
      assert.match(await res.text(), /npm run build:ui/);
    } finally {
      await bare.stop();
    }
  });
});
