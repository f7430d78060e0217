import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { cleanup, startE2eAgent, waitLive, type E2eAgent } from '../e2e/support.ts';
import { axeViolations, describeViolations, screenshot, startBrowser, type TestBrowser } from '../helpers/browser.ts';
import { startCliSystem, type CliSystem } from '../helpers/cli.ts';
import { startLoad, type RunningLoad } from '../helpers/load.ts';
import { waitFor, type Truthy } from '../helpers/wait-for.ts';
import { copyShopExample, SHOP_ENV } from '../e2e/shop-example.ts';

/**
 * The README's release walkthrough (test/e2e/cli-release.test.ts) steered from the dashboard:
 * the example directory (deploy/examples/shop) applied with `veer apply` against a real engine,
 * real local deployments and a real HAProxy with real traffic; then a user watches the weights
 * move and the charts fill on the gateway page, sees the release wait at its manual gate on the
 * Releases page and clicks Promote there. The API is only read, to check what the page showed.
 * The example copy differs as in the CLI test: a free port, absolute paths, a per-second
 * schedule and a 5 s window, so the release takes seconds.
 */
const RELEASE_WAIT = { timeoutMs: 180_000, intervalMs: 250 };
/** Closed buckets of canary traffic on the 5 min window (3 s each) for the README's screenshot to show lines, not dots. */
const CHART_POINTS = 10;

let s: CliSystem;
let agent: E2eAgent | undefined;
let load: RunningLoad | undefined;
let browser: TestBrowser | undefined;
let dir: string;
let port: number;

interface ReleaseView {
  workflow: string;
  release: { phase: string; weight: number; stepIndex: number } | null;
  lastRun: { id: string; status: string } | null;
}

async function releaseFromApi(): Promise<ReleaseView | undefined> {
  const r = await s.t.call('GET', '/api/v1/releases');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.releases as ReleaseView[]).find((x) => x.workflow === 'shop-canary');
}

/** Closed buckets with requests of the canary route over the 5 min window the test picks on the page. */
async function canaryPoints(): Promise<number> {
  const r = await s.t.call('GET', '/api/v1/gateways/shop/metrics/series?window=5m');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const canary = (r.body.routes as Array<{ route: string; points: Array<{ noData: boolean; partial?: true }> }>).find((x) => x.route === 'canary');
  return canary?.points.filter((p) => !p.noData && !p.partial).length ?? 0;
}

/**
 * Whether a route's charts show traffic: the route does not say "no traffic in this window" (every
 * bucket empty) and its "Requests per second" chart does not announce "no data". Not its latest
 * value: that is the open bucket, often still empty when the page fetched it.
 */
async function chartShowsTraffic(page: Page, route: string): Promise<boolean> {
  const region = page.getByRole('region', { name: `Metrics of route ${route}` });
  const label = (await region.getByRole('img', { name: /^Requests per second/ }).getAttribute('aria-label')) ?? '';
  return label !== '' && !/no data/.test(label) && (await region.getByText('no traffic in this window').count()) === 0;
}

/** The canary route's weight as the gateway page's routes table shows it (the weights form keeps what it was filled with). */
async function canaryWeightOnPage(page: Page): Promise<number> {
  const row = page
    .getByRole('table', { name: 'Routes of shop' })
    .getByRole('row')
    .filter({ has: page.getByRole('cell', { name: 'canary', exact: true }) });
  const m = /(\d+)\s?%/.exec(await row.getByRole('cell').nth(1).innerText());
  return m ? Number(m[1]) : Number.NaN;
}

/** The release panel of shop-canary on the Releases page, and its text on one line. */
function releasePanel(page: Page): Locator {
  return page.getByRole('region', { name: 'shop-canary', exact: true });
}
async function panelText(page: Page): Promise<string> {
  return (await releasePanel(page).innerText()).replace(/\s+/g, ' ');
}

/** waitFor, and on a timeout what the API said meanwhile, to tell a stuck release from a page that did not follow it. */
async function waitForPage<T>(check: () => T | Promise<T>, what: string): Promise<Truthy<T>> {
  try {
    return await waitFor(check, { ...RELEASE_WAIT, what });
  } catch (err) {
    const r = await releaseFromApi().catch(() => undefined);
    const gw = await s.t.call('GET', '/api/v1/gateways/shop').catch(() => undefined);
    const weights = gw?.body?.routes
      ? Object.fromEntries(Object.entries(gw.body.routes as Record<string, { weight: number }>).map(([k, v]) => [k, v.weight]))
      : undefined;
    const history = (r as { history?: unknown[] } | undefined)?.history?.slice(-3);
    throw new Error(
      `${(err as Error).message}; the API meanwhile: release ${JSON.stringify(r?.release)}, weights ${JSON.stringify(weights)}, last checks ${JSON.stringify(history)}`,
      { cause: err },
    );
  }
}

async function assertAccessible(page: Page, what: string): Promise<void> {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${what}:\n${describeViolations(violations)}`);
}

before(async () => {
  s = await startCliSystem({
    env: SHOP_ENV,
  });
  agent = await startE2eAgent(s.t);
  browser = await startBrowser();
  ({ dir, port } = await copyShopExample(s.dir));
});
after(() => cleanup([load?.stop, browser?.close, agent?.stop, () => s?.stop()]));

test('a canary release followed and promoted in the dashboard, with real traffic through HAProxy', async () => {
  const applied = await s.veer(['apply', '-f', dir]);
  assert.equal(applied.code, 0, applied.stderr);
  const ctx = await browser!.context(s.url);
  const releases = await ctx.newPage();
  const gateway = await ctx.newPage();
  await releases.goto('/releases');
  await releases.getByRole('heading', { level: 1, name: 'Releases' }).waitFor();
  const panel = releasePanel(releases);
  await panel.waitFor();

  await gateway.goto('/gateways/shop');
  await gateway.getByRole('heading', { level: 1, name: 'Gateway shop' }).waitFor();
  // The weights form names its inputs by route (and by target).
  await gateway.getByLabel('canary weight').waitFor();
  await gateway.getByLabel('shop-v2 weight').waitFor();
  // The shortest window: the release's minutes of traffic fill the charts' width.
  await gateway.getByRole('button', { name: '5 min', exact: true }).click();
  // Per route (stable, canary) its three charts.
  for (const caption of ['Requests per second', 'Error rate', 'Latency p50/p99'])
    await waitFor(async () => (await gateway.getByText(caption, { exact: true }).count()) === 2, { ...RELEASE_WAIT, what: `two "${caption}" charts` });

  await waitFor(
    async () => {
      const r = await s.t.call('GET', '/api/v1/deployments');
      const list = r.body.deployments as Array<{ name: string; readyInstances: number }>;
      return list.filter((d) => d.name.startsWith('shop-v') && d.readyInstances === 2).length === 2;
    },
    { ...RELEASE_WAIT, what: 'both deployments ready' },
  );
  await waitLive(s.t, 'shop');

  // The weights move, on both pages, without a reload: from what they show before any traffic (the
  // release cannot pass its first step without samples) to a later step once the load runs.
  const start = await canaryWeightOnPage(gateway);
  const startText = /canary weight (\d+)%/.exec(await panelText(releases));
  assert.ok(startText, await panelText(releases));
  assert.ok(start < 25 && Number(startText[1]) < 25, `the release moved before any traffic (gateway page ${start}, release panel ${startText[1]})`);
  load = startLoad({ url: `http://127.0.0.1:${port}/`, concurrency: 2, maxMs: 300_000 });
  await waitForPage(async () => {
    const w = await canaryWeightOnPage(gateway);
    return w > start && w < 100;
  }, `the canary weight on the gateway page to move on from ${start}`);
  await waitForPage(async () => {
    const m = /canary weight (\d+)%/.exec(await panelText(releases));
    return m && Number(m[1]) > Number(startText[1]) && Number(m[1]) < 100;
  }, `the canary weight on the release panel to move on from ${startText[1]}`);

  // The charts get data from the live traffic.
  await waitForPage(() => chartShowsTraffic(gateway, 'stable'), "the stable route's charts to show traffic");
  await waitForPage(() => chartShowsTraffic(gateway, 'canary'), "the canary route's charts to show traffic");

  // The manual gate: the API holds the release at 50, and the release panel says it waits for a promote.
  await waitForPage(async () => {
    const r = await releaseFromApi();
    return r?.release?.phase === 'paused' && r.release.weight === 50;
  }, 'the release held at the manual gate at 50');
  await waitForPage(async () => {
    const text = await panelText(releases);
    return /canary weight 50%/.test(text) && /Waiting for promote/.test(text);
  }, 'the release panel to show the gate at 50 % waiting for a promote');
  await waitForPage(async () => (await canaryWeightOnPage(gateway)) === 50, 'the gateway page at 50 for the canary');
  // The weights form keeps the weights it was filled with while the release moves them; the user takes the current ones.
  const takeCurrent = gateway.getByRole('button', { name: 'Use current weights' });
  if ((await takeCurrent.count()) > 0) await takeCurrent.click();
  await waitForPage(async () => (await gateway.getByLabel('canary weight').inputValue()) === '50', 'the weights form filled with the current 50');

  // The README's screenshots, once the page has fetched a series with a line's worth of canary points.
  await waitForPage(async () => (await canaryPoints()) >= CHART_POINTS, `${CHART_POINTS} points of canary traffic`);
  await gateway.waitForResponse((res) => res.url().includes('/api/v1/gateways/shop/metrics/series') && res.ok(), { timeout: RELEASE_WAIT.timeoutMs });
  // Two frames: the answer rendered into the charts.
  await gateway.evaluate('new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))');
  assert.ok((await chartShowsTraffic(gateway, 'stable')) && (await chartShowsTraffic(gateway, 'canary')), "both routes' charts with traffic");
  await screenshot(gateway, 'gateway-live-traffic');
  await screenshot(releases, 'release-in-progress');
  await assertAccessible(gateway, 'gateway page');
  await assertAccessible(releases, 'releases page');

  // Promote from the page.
  await panel.getByRole('button', { name: 'Promote' }).click();
  await panel
    .getByRole('status')
    .getByText(/promote sent/)
    .waitFor();
  await waitForPage(async () => (await releaseFromApi())?.release?.phase === 'promoted', 'the release promoted after clicking Promote');

  // The pages follow the release to its end.
  await waitForPage(async () => {
    const text = await panelText(releases);
    return /canary weight 100%/.test(text) && /\bpromoted\b/.test(text);
  }, 'the release panel to show the release promoted at 100 %');
  assert.equal(await panel.getByRole('button', { name: 'Promote' }).count(), 0, 'a finished release offers no Promote');
  await waitForPage(async () => (await canaryWeightOnPage(gateway)) === 100, 'the gateway page at 100 for the canary');

  const gw = await s.t.call('GET', '/api/v1/gateways/shop');
  assert.equal(gw.status, 200, JSON.stringify(gw.body));
  assert.equal(gw.body.routes.canary.weight, 100);
  assert.equal(gw.body.routes.stable.weight, 0);
  const end = await waitForPage(async () => {
    const r = await releaseFromApi();
    return r?.lastRun && ['succeeded', 'failed', 'timed_out', 'cancelled'].includes(r.lastRun.status) ? r : undefined;
  }, "the workflow's newest run to finish");
  assert.equal(end.lastRun!.status, 'succeeded', JSON.stringify(end.lastRun));

  const total = await load.stop();
  const bodies = Object.keys(total.counts).join(' ');
  assert.match(bodies, /v1/, JSON.stringify(total.counts));
  assert.match(bodies, /v2/, JSON.stringify(total.counts));
  if (total.failures) console.log(`ui canary-release: ${total.failures} failed requests over the release: ${JSON.stringify(total.errors)}`);
});
