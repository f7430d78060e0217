import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { axeViolations, describeViolations, screenshot } from '../helpers/browser.ts';
import { freePort } from '../helpers/free-port.ts';
import { startUiSystem, type UiSystem } from '../helpers/ui-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

const VIEWPORTS = [
  { label: 'desktop', width: 1280, height: 800 },
  { label: 'phone', width: 390, height: 844 },
] as const;

const ok = (res: { status: number; body: unknown }) => assert.ok(res.status >= 200 && res.status < 300, JSON.stringify(res.body));

/** Page width against the window's: at phone width nothing may make the whole page scroll sideways (tables scroll inside .table-wrap). */
function overflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number; widest: string }> {
  return page.evaluate(() => {
    const g = globalThis as unknown as {
      innerWidth: number;
      document: {
        documentElement: { scrollWidth: number };
        querySelectorAll(s: string): Iterable<{ getBoundingClientRect(): { right: number }; tagName: string; className: string }>;
      };
    };
    // Which element sticks out furthest: the assertion message says what to fix.
    let widest = '';
    let right = g.innerWidth;
    for (const el of g.document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect().right;
      if (r > right + 1) {
        right = r;
        widest = `${el.tagName.toLowerCase()}.${String(el.className).replace(/\s+/g, '.')} (right edge ${Math.round(r)} px)`;
      }
    }
    return { scrollWidth: g.document.documentElement.scrollWidth, innerWidth: g.innerWidth, widest };
  });
}

describe('every dashboard page is accessible at desktop and phone width', () => {
  let ui: UiSystem;
  let runId: string;
  const contexts = new Map<string, BrowserContext>();

  before(async () => {
    ui = await startUiSystem({ env: { VEER_SECRETS_KEY: randomBytes(32).toString('hex') } });
    const { t } = ui;
    ok(
      await t.call('PUT', '/api/v1/workflows/a11y-flow', { script: "export default async function (ctx) { ctx.log.info('hello a11y'); return { ok: true } }" }),
    );
    const run = await t.call('POST', '/api/v1/workflows/a11y-flow/runs', {});
    ok(run);
    runId = run.body.id;
    await waitFor(async () => (await t.call('GET', `/api/v1/runs/${runId}`)).body.status === 'succeeded', {
      timeoutMs: 30_000,
      what: 'the seeded run to succeed',
    });
    ok(
      await t.call('PUT', '/api/v1/gateways/shop', {
        port: await freePort(),
        routes: { stable: { weight: 90, targets: { deployment: 'shop-v1', port: 'http' } }, canary: { weight: 10, targets: [{ host: '127.0.0.1', port: 1 }] } },
      }),
    );
    ok(await t.call('POST', '/api/v1/events', { tags: ['a11y'], type: 'a11y.seeded', value: 1 }));
    // No instances: listed, nothing started.
    ok(await t.call('PUT', '/api/v1/deployments/web', { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1 << 30)'], instances: 0 }));
    // Subscribed to a tag nothing emits: listed, never delivered to.
    ok(await t.call('PUT', '/api/v1/notifiers/a11y-hook', { url: `http://127.0.0.1:${await freePort()}/hook`, events: { tags: ['never-emitted'] } }));
    ok(await t.call('PUT', '/api/v1/secrets/a11y-secret', { value: 'not-shown-anywhere' }));
  });
  after(async () => {
    await ui?.stop();
  });

  async function pageAt(viewport: (typeof VIEWPORTS)[number]): Promise<Page> {
    let ctx = contexts.get(viewport.label);
    if (!ctx) {
      ctx = await ui.browser.context(ui.url, { viewport: { width: viewport.width, height: viewport.height } });
      contexts.set(viewport.label, ctx);
    }
    return ctx.pages()[0] ?? (await ctx.newPage());
  }

  /** Each page, and something of the seeded data that shows it has loaded. */
  const PAGES: Array<{ path: () => string; slug: string; loaded: (main: ReturnType<Page['getByRole']>) => ReturnType<Page['locator']> }> = [
    { path: () => '/', slug: 'overview', loaded: (main) => main.getByText('a11y-flow').first() },
    { path: () => '/workflows', slug: 'workflows', loaded: (main) => main.getByRole('link', { name: 'a11y-flow', exact: true }) },
    { path: () => '/workflows/a11y-flow', slug: 'workflow', loaded: (main) => main.locator('.cm-content') },
    { path: () => '/runs', slug: 'runs', loaded: (main) => main.getByText('a11y-flow').first() },
    { path: () => `/runs/${runId}`, slug: 'run', loaded: (main) => main.getByRole('log', { name: 'Log' }).getByText('hello a11y') },
    { path: () => '/releases', slug: 'releases', loaded: (main) => main.getByRole('heading', { level: 1 }) },
    { path: () => '/gateways', slug: 'gateways', loaded: (main) => main.getByRole('link', { name: 'shop', exact: true }) },
    { path: () => '/gateways/shop', slug: 'gateway', loaded: (main) => main.getByLabel('shop-v1 weight') },
    { path: () => '/deployments', slug: 'deployments', loaded: (main) => main.getByRole('rowheader', { name: /^web/ }) },
    { path: () => '/events', slug: 'events', loaded: (main) => main.getByText('a11y.seeded').first() },
    { path: () => '/notifiers', slug: 'notifiers', loaded: (main) => main.getByText('a11y-hook').first() },
    { path: () => '/secrets', slug: 'secrets', loaded: (main) => main.getByText('a11y-secret').first() },
  ];

  for (const viewport of VIEWPORTS) {
    for (const p of PAGES) {
      it(`${p.slug} at ${viewport.width}×${viewport.height}: no serious axe violations${viewport.label === 'phone' ? ', no sideways page scroll' : ''}`, async () => {
        const page = await pageAt(viewport);
        await page.goto(p.path());
        const main = page.getByRole('main');
        await main.getByRole('heading', { level: 1 }).waitFor({ timeout: 30_000 });
        await p.loaded(main).waitFor({ timeout: 30_000 });
        // Whatever else the page loads (its second request, the lazy editor) has said it is done.
        await waitFor(async () => (await page.locator('[aria-busy="true"]').count()) === 0, { timeoutMs: 30_000, what: `${p.slug} to finish loading` });
        assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1, 'one h1 per page');
        await screenshot(page, `accessibility-${p.slug}-${viewport.label}`);
        // Both checks before asserting: one failure does not hide the other.
        const problems: string[] = [];
        const violations = await axeViolations(page);
        if (violations.length > 0) problems.push(describeViolations(violations));
        if (viewport.label === 'phone') {
          const o = await overflow(page);
          if (o.scrollWidth > o.innerWidth + 1) problems.push(`the page scrolls sideways: ${o.scrollWidth} px wide in ${o.innerWidth} px; widest: ${o.widest}`);
        }
        assert.deepEqual(problems, [], problems.join('\n'));
      });
    }
  }

  it('reaches "Skip to content" with the first Tab, and Enter moves focus into main', async () => {
    const page = await pageAt(VIEWPORTS[0]);
    await page.goto('/workflows');
    await page.getByRole('main').getByRole('link', { name: 'a11y-flow', exact: true }).waitFor({ timeout: 30_000 });
    await page.keyboard.press('Tab');
    const focused = () =>
      page.evaluate(() => {
        const el = (globalThis as unknown as { document: { activeElement: { textContent: string | null; closest(s: string): unknown } | null } }).document
          .activeElement;
        return { text: el?.textContent?.trim() ?? '', inMain: !!el?.closest('main') };
      });
    assert.equal((await focused()).text, 'Skip to content');
    await screenshot(page, 'accessibility-skip-link');
    await page.keyboard.press('Enter');
    await waitFor(async () => (await focused()).inMain, { timeoutMs: 10_000, what: 'focus to move into main' });
  });
});
