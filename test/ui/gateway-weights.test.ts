import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { screenshot } from '../helpers/browser.ts';
import { freePort } from '../helpers/free-port.ts';
import { startUiSystem, type UiSystem } from '../helpers/ui-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

describe('setting gateway weights from the dashboard', () => {
  let ui: UiSystem;
  before(async () => {
    // No agent or HAProxy: the page and the API are what is tested, not traffic.
    ui = await startUiSystem();
  });
  after(async () => {
    await ui?.stop();
  });

  /** A gateway with a stable and a canary route, each on its own deployment (the inputs are named after those). */
  async function createGateway(name: string): Promise<void> {
    const res = await ui.t.call('PUT', `/api/v1/gateways/${name}`, {
      port: await freePort(),
      routes: {
        stable: { weight: 90, targets: { deployment: `${name}-v1`, port: 'http' } },
        canary: { weight: 10, targets: { deployment: `${name}-v2`, port: 'http' } },
      },
    });
    assert.ok(res.status === 200 || res.status === 201, JSON.stringify(res.body));
  }

  async function storedWeights(name: string): Promise<[number, number]> {
    const g = (await ui.t.call('GET', `/api/v1/gateways/${name}`)).body;
    return [g.routes.stable.weight, g.routes.canary.weight];
  }

  async function openGateway(name: string): Promise<Page> {
    const page = await (await ui.browser.context(ui.url)).newPage();
    await page.goto(`/gateways/${name}`);
    await page.getByRole('heading', { level: 1, name: new RegExp(name) }).waitFor({ timeout: 30_000 });
    await page.getByLabel(`${name}-v1 weight`).waitFor({ timeout: 30_000 });
    return page;
  }

  async function shownWeights(page: Page, name: string): Promise<[string, string]> {
    return [await page.getByLabel(`${name}-v1 weight`).inputValue(), await page.getByLabel(`${name}-v2 weight`).inputValue()];
  }

  async function setWeights(page: Page, name: string, v1: number, v2: number): Promise<void> {
    await page.getByLabel(`${name}-v1 weight`).fill(String(v1));
    await page.getByLabel(`${name}-v2 weight`).fill(String(v2));
  }

  async function apply(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Set weights', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor({ timeout: 30_000 });
    await dialog.getByRole('button', { name: 'Apply', exact: true }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 30_000 });
  }

  /** The routes table's weight of `route`, as the page shows it. */
  function tableWeight(page: Page, route: string) {
    return page.getByRole('row').filter({ has: page.getByRole('cell', { name: route, exact: true }) });
  }

  it('applies new weights through the confirm dialog, and the API agrees', async () => {
    await createGateway('shop');
    const page = await openGateway('shop');
    assert.deepEqual(await shownWeights(page, 'shop'), ['90', '10']);
    await setWeights(page, 'shop', 70, 30);
    await screenshot(page, 'gateway-weights-edited');
    await apply(page);
    await tableWeight(page, 'stable').filter({ hasText: '70%' }).waitFor({ timeout: 30_000 });
    await tableWeight(page, 'canary').filter({ hasText: '30%' }).waitFor({ timeout: 30_000 });
    assert.deepEqual(await storedWeights('shop'), [70, 30]);
    // The form refills from the reloaded gateway just after the table does.
    await waitFor(async () => JSON.stringify(await shownWeights(page, 'shop')) === '["70","30"]', {
      timeoutMs: 30_000,
      what: 'the form to show the applied weights',
    }).catch(async (err: unknown) => {
      await screenshot(page, 'gateway-weights-applied-stale-form');
      throw err;
    });
    await screenshot(page, 'gateway-weights-applied');
  });

  it("refuses to overwrite another writer's change the page has not seen yet, and Reload shows it", async () => {
    await createGateway('blog');
    const page = await openGateway('blog');
    // Holds the page's status poll (its only way to notice a new revision) so the other writer's
    // change stays unseen however long the steps below take: what a user meets within one poll period.
    await page.route('**/api/v1/gateways/blog/status', (route) => route.abort());
    const other = await ui.t.call('PUT', '/api/v1/gateways/blog/weights', { stable: 50, canary: 50 });
    assert.equal(other.status, 200, JSON.stringify(other.body));
    await setWeights(page, 'blog', 80, 20);
    await apply(page);
    const alert = page.getByRole('alert').filter({ hasText: /revision/ });
    await alert.waitFor({ timeout: 30_000 });
    assert.deepEqual(await storedWeights('blog'), [50, 50], 'the stale write was applied');
    await screenshot(page, 'gateway-weights-conflict');
    await alert.getByRole('button', { name: 'Reload', exact: true }).click();
    await waitFor(async () => JSON.stringify(await shownWeights(page, 'blog')) === '["50","50"]', {
      timeoutMs: 30_000,
      what: "the form to show the other writer's weights",
    });
    await tableWeight(page, 'stable').filter({ hasText: '50%' }).waitFor({ timeout: 30_000 });
    assert.equal(
      await page
        .getByRole('alert')
        .filter({ hasText: /revision/ })
        .count(),
      0,
    );
    await screenshot(page, 'gateway-weights-reloaded');
  });

  it("refuses a stale edit after the page showed another writer's change under it, and Reload shows that change", async () => {
    await createGateway('mail');
    const page = await openGateway('mail');
    await setWeights(page, 'mail', 80, 20);
    const other = await ui.t.call('PUT', '/api/v1/gateways/mail/weights', { stable: 40, canary: 60 });
    assert.equal(other.status, 200, JSON.stringify(other.body));
    // The status poll notices the new revision and the table shows it, while the form keeps the user's edit.
    await tableWeight(page, 'canary').filter({ hasText: '60%' }).waitFor({ timeout: 30_000 });
    assert.deepEqual(await shownWeights(page, 'mail'), ['80', '20'], 'the reload replaced what the user was typing');
    await apply(page);
    const alert = page.getByRole('alert').filter({ hasText: /revision/ });
    await alert.waitFor({ timeout: 30_000 });
    assert.deepEqual(await storedWeights('mail'), [40, 60], 'the stale write was applied');
    await alert.getByRole('button', { name: 'Reload', exact: true }).click();
    await waitFor(async () => JSON.stringify(await shownWeights(page, 'mail')) === '["40","60"]', {
      timeoutMs: 30_000,
      what: "the form to show the other writer's weights after Reload",
    }).finally(() => screenshot(page, 'gateway-weights-reloaded-after-poll'));
    // And the form now works from the new revision: applying from it succeeds.
    await setWeights(page, 'mail', 30, 70);
    await apply(page);
    await waitFor(async () => JSON.stringify(await storedWeights('mail')) === '[30,70]', {
      timeoutMs: 30_000,
      what: 'the weights applied from the reloaded form',
    });
  });

  it('keeps the applied weights in the form when the status answer comes back before the gateway', async () => {
    await createGateway('news');
    const page = await openGateway('news');
    // After Apply the page asks for the status and the gateway at once; here the status answers
    // first (as it may on any network), deterministically: gateway reads wait for a status answer.
    let armed = false;
    let statusAnswered: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (statusAnswered = resolve));
    page.on('requestfinished', (req) => {
      if (armed && req.url().endsWith('/api/v1/gateways/news/status')) statusAnswered();
    });
    await page.route('**/api/v1/gateways/news', async (route) => {
      if (armed && route.request().method() === 'GET') await answered;
      await route.continue();
    });
    await setWeights(page, 'news', 60, 40);
    armed = true;
    await apply(page);
    await tableWeight(page, 'stable').filter({ hasText: '60%' }).waitFor({ timeout: 30_000 });
    assert.deepEqual(await storedWeights('news'), [60, 40]);
    await waitFor(async () => JSON.stringify(await shownWeights(page, 'news')) === '["60","40"]', {
      timeoutMs: 30_000,
      what: 'the form to show the applied weights',
    }).catch(async (err: unknown) => {
      await screenshot(page, 'gateway-weights-status-first-stale-form');
      throw err;
    });
  });
});
