import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { freePort } from '../helpers/free-port.ts';
import { logIn, pageFetch, screenshot } from '../helpers/browser.ts';
import { startUiSystem, type UiSystem } from '../helpers/ui-system.ts';

const SECRETS = { root: 'root-secret-0123456789abcdef', viewer: 'viewer-secret-0123456789abcdef' };
const ROOT = { authorization: `Bearer ${SECRETS.root}` };
const SCRIPT = 'export default async function () { return 1 }';
/** Every control a read-only token must not be shown (hidden, not disabled). */
const MUTATING = ['Save', 'Run now', 'Pause', 'Set weights', 'New workflow', 'Scale', 'Promote', 'Abort'];

async function sessionCookie(page: Page) {
  return (await page.context().cookies()).find((c) => c.name === 'veer_session');
}

async function assertNoMutatingButtons(page: Page, where: string): Promise<void> {
  for (const name of MUTATING)
    assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `a read-only session sees a "${name}" button on ${where}`);
}

describe('dashboard login, logout, CSRF and a read-only session', () => {
  let ui: UiSystem;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veer-ui-tokens-'));
    const file = join(dir, 'tokens');
    writeFileSync(file, [`root:admin:${SECRETS.root}`, `viewer:read:${SECRETS.viewer}`].join('\n'));
    ui = await startUiSystem({ env: { VEER_API_TOKENS_FILE: file } });
    const wf = await ui.t.call('PUT', '/api/v1/workflows/billing', { script: SCRIPT }, ROOT);
    assert.ok(wf.status === 200 || wf.status === 201, JSON.stringify(wf.body));
    const gw = await ui.t.call(
      'PUT',
      '/api/v1/gateways/shop',
      {
        port: await freePort(),
        routes: { 'shop-v1': { weight: 90, targets: [{ host: '127.0.0.1', port: 1 }] }, 'shop-v2': { weight: 10, targets: [{ host: '127.0.0.1', port: 2 }] } },
      },
      ROOT,
    );
    assert.ok(gw.status === 200 || gw.status === 201, JSON.stringify(gw.body));
    // No instances: listed with its controls, nothing started.
    const dep = await ui.t.call(
      'PUT',
      '/api/v1/deployments/web',
      { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1 << 30)'], instances: 0 },
      ROOT,
    );
    assert.ok(dep.status >= 200 && dep.status < 300, JSON.stringify(dep.body));
  });
  /** One read-only session, logged in on first use, shared by the tests that look at its pages. */
  let viewerPage: Page | undefined;
  async function viewer(): Promise<Page> {
    if (!viewerPage) {
      const page = await (await ui.browser.context(ui.url)).newPage();
      await page.goto('/');
      await logIn(page, SECRETS.viewer);
      viewerPage = page;
    }
    return viewerPage;
  }
  after(async () => {
    await ui?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong token with an error and no cookie', async () => {
    const page = await (await ui.browser.context(ui.url)).newPage();
    await page.goto('/');
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 30_000 });
    assert.match((await alert.textContent()) ?? '', /UNAUTHORIZED|not one of the API tokens/i);
    assert.equal(await sessionCookie(page), undefined, 'a failed login set a session cookie');
    assert.equal(await page.getByRole('button', { name: 'Log out' }).count(), 0);
    await screenshot(page, 'login-and-scopes-wrong-token');
  });

  it('logs an admin in with an httpOnly SameSite=Strict cookie, checks CSRF, and logs out for good', async () => {
    const page = await (await ui.browser.context(ui.url)).newPage();
    await page.goto('/');
    await logIn(page, SECRETS.root);
    const cookie = await sessionCookie(page);
    assert.ok(cookie, 'no veer_session cookie after login');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal((await pageFetch(page, 'GET', '/api/v1/workflows')).status, 200);
    await screenshot(page, 'login-and-scopes-admin');

    const forged = await pageFetch(page, 'PUT', '/api/v1/workflows/csrf-probe', { body: { script: SCRIPT } });
    assert.equal(forged.status, 403, JSON.stringify(forged.body));
    assert.equal(forged.body?.code, 'CSRF');
    const { csrf } = (await pageFetch(page, 'GET', '/api/v1/session')).body as { csrf: string };
    assert.ok(csrf, 'GET /api/v1/session gave no csrf token');
    const made = await pageFetch(page, 'PUT', '/api/v1/workflows/csrf-probe', { body: { script: SCRIPT }, headers: { 'x-veer-csrf': csrf } });
    assert.ok(made.status === 200 || made.status === 201, JSON.stringify(made.body));

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('API token').waitFor({ timeout: 30_000 });
    await screenshot(page, 'login-and-scopes-logged-out');
    assert.equal((await pageFetch(page, 'GET', '/api/v1/workflows')).status, 401);
    // The old cookie, put back by hand, names a forgotten session.
    await page.context().addCookies([{ ...cookie }]);
    assert.equal((await sessionCookie(page))?.value, cookie.value);
    assert.equal((await pageFetch(page, 'GET', '/api/v1/workflows')).status, 401, 'the logged-out cookie still authenticates');
  });

  it('shows an admin the mutating controls (so their absence below means something)', async () => {
    const page = await (await ui.browser.context(ui.url)).newPage();
    await page.goto('/workflows');
    await logIn(page, SECRETS.root);
    await page.getByRole('link', { name: 'billing', exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'New workflow' }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'login-and-scopes-admin-workflows');
  });

  it('shows a read-only session no mutating buttons on /workflows', async () => {
    const page = await viewer();
    await page.goto('/workflows');
    await page.getByRole('link', { name: 'billing', exact: true }).waitFor({ timeout: 30_000 });
    await assertNoMutatingButtons(page, '/workflows');
    await screenshot(page, 'login-and-scopes-viewer-workflows');
  });

  it('shows a read-only session no mutating buttons on a workflow page', async () => {
    const page = await viewer();
    await page.goto('/workflows/billing');
    await page.getByRole('heading', { level: 1, name: /billing/ }).waitFor({ timeout: 30_000 });
    // By attribute: the page also has a section titled "Script" around the editor.
    await page.locator('[aria-label="Script"] .cm-content').waitFor({ timeout: 30_000 });
    await assertNoMutatingButtons(page, '/workflows/billing');
    await screenshot(page, 'login-and-scopes-viewer-workflow');
  });

  it('shows a read-only session no mutating buttons on a gateway page', async () => {
    const page = await viewer();
    await page.goto('/gateways/shop');
    await page.getByRole('heading', { level: 1, name: /shop/ }).waitFor({ timeout: 30_000 });
    await page.getByRole('main').getByText('shop-v2').first().waitFor({ timeout: 30_000 });
    await assertNoMutatingButtons(page, '/gateways/shop');
    await screenshot(page, 'login-and-scopes-viewer-gateway');
  });

  it('shows a read-only session no mutating buttons on /deployments', async () => {
    const page = await viewer();
    await page.goto('/deployments');
    await page.getByRole('heading', { level: 1, name: 'Deployments' }).waitFor({ timeout: 30_000 });
    await page.getByRole('rowheader', { name: /^web/ }).waitFor({ timeout: 30_000 });
    await assertNoMutatingButtons(page, '/deployments');
    await screenshot(page, 'login-and-scopes-viewer-deployments');
  });

  it('refuses a mutation made with a read-only session (403 FORBIDDEN)', async () => {
    const page = await viewer();
    const { csrf } = (await pageFetch(page, 'GET', '/api/v1/session')).body as { csrf: string };
    assert.ok(csrf, 'GET /api/v1/session gave no csrf token');
    const refused = await pageFetch(page, 'POST', '/api/v1/workflows/billing/runs', { body: {}, headers: { 'x-veer-csrf': csrf } });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body?.code, 'FORBIDDEN');
  });
});
