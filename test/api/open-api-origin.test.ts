import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/**
 * Without VEER_API_TOKENS the API is open to this machine's programs, not to the web pages its
 * browser opens: a page on another site cannot change anything through it (its Origin gives it
 * away), and a DNS-rebinding page that reaches loopback under its own name cannot even read
 * (its Host is not a loopback name). curl, the CLI and the dashboard itself are unaffected.
 */
describe('the open API (no tokens) refuses web pages of other sites', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(() => t?.stop());

  const put = (headers: Record<string, string>) => t.call('PUT', '/api/v1/workflows/hello', { script: 'export default async () => 1' }, headers);

  it('refuses a change posted by a page of another site, naming it', async () => {
    const res = await put({ host: '127.0.0.1:8080', origin: 'https://evil.example' });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'CSRF');
    assert.match(res.body.message, /https:\/\/evil\.example.*VEER_API_TOKENS/);
    assert.equal((await t.call('GET', '/api/v1/workflows/hello')).status, 404, 'nothing was stored');
  });

  it('refuses every request under a name that is not loopback (DNS rebinding), reads too', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/workflows'],
      ['PUT', '/api/v1/workflows/hello'],
    ] as const) {
      const res = await t.call(method, path, method === 'PUT' ? { script: 'export default async () => 1' } : undefined, { host: 'rebound.example:8080' });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.code, 'CSRF');
      assert.match(res.body.message, /rebound\.example:8080.*loopback names/);
    }
  });

  it('takes requests from programs (no Origin) and from pages on loopback (the dashboard, npm run dev:ui)', async () => {
    assert.equal((await put({ host: '127.0.0.1:8080' })).status, 200);
    assert.equal((await put({ host: 'localhost:8080', origin: 'http://localhost:8080' })).status, 200);
    assert.equal((await put({ host: '[::1]:8080', origin: 'http://127.0.0.1:5173' })).status, 200);
    // A read from any page is only a read: the browser keeps the answer from a foreign page (no CORS).
    assert.equal((await t.call('GET', '/api/v1/workflows', undefined, { host: '127.0.0.1:8080', origin: 'https://evil.example' })).status, 200);
  });
});
