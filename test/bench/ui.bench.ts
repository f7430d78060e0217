/**
 * How soon the dashboard's first pages are usable with a realistic amount of data: 1,000
 * workflows and 10,000 runs (10 each, finished over the last day), in headless Chromium on
 * loopback. Each case is a navigation in a fresh browser context (cold cache, a first visit)
 * and again in a warm one (the assets cached), timed until the page's main content is rendered:
 *   Overview: its h1 and both run lists answered (running: none, so its empty text; failed: a run link);
 *   Workflows: its h1 and the first page of the list (a link to /workflows/<name>);
 *   Runs: its h1 and the first page of runs (a link to /runs/<id>).
 * Baseline, measured in the same run: the same browser navigating to a minimal HTML page (one
 * h1) served by the same HTTP server on the same origin, timed until its h1 is visible: the
 * floor of any page there (a navigation, one request, a render), so the ratio is what the
 * dashboard itself costs. The target: first page interactive within 1 s.
 * Run: npm run bench -- ui   (or node --no-node-snapshot test/bench/ui.bench.ts [rounds] [workflows] [runsPerWorkflow])
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { BrowserContext, Page } from 'playwright-core';
import type { Run, RunStatus } from '../../engine/domain/run.ts';
import { serveApi } from '../e2e/serve-api.ts';
import { startBrowser } from '../helpers/browser.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

const rounds = Number(process.argv[2] ?? 15);
const workflows = Number(process.argv[3] ?? 1000);
const runsPer = Number(process.argv[4] ?? 10);
const BASELINE = '/__bench/baseline.html';
const BASELINE_HTML = '<!doctype html><html lang="en"><meta charset="utf-8"><title>Baseline</title><body><h1>Baseline</h1></body></html>';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const nameOf = (i: number) => `bench-${String(i).padStart(4, '0')}`;

async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function seed(t: TestSystem): Promise<number> {
  const t0 = performance.now();
  const put = await t.call('PUT', `/api/v1/workflows/${nameOf(0)}`, { script: 'export default async function (ctx) { ctx.log.info("tick"); return 1 }' });
  if (put.status !== 200) throw new Error(`PUT answered ${put.status}: ${JSON.stringify(put.body)}`);
  const stored = await t.system.stores.workflows.require(nameOf(0));
  const { name: _n, version: _v, createdAt: _c, updatedAt: _u, compiled, paused: _p, ...spec } = stored;
  const store = t.system.stores;
  await inParallel(
    Array.from({ length: workflows - 1 }, (_, k) => k + 1),
    64,
    (i) => store.workflows.put(nameOf(i), spec as Parameters<typeof store.workflows.put>[1], compiled),
  );
  // Spread over the last day, interleaved across workflows, mostly succeeded: what a busy day leaves.
  const now = Date.now();
  const total = workflows * runsPer;
  const runs: Run[] = Array.from({ length: total }, (_, k) => {
    const queued = now - Math.round(((total - k) / total) * 86_400_000);
    const status: RunStatus = k % 17 === 0 ? 'failed' : 'succeeded';
    return {
      id: `${queued.toString(36).padStart(9, '0')}-${randomUUID().slice(0, 8)}`,
      workflow: nameOf(k % workflows),
      workflowVersion: 1,
      status,
      trigger: { type: 'manual' },
      input: null,
      attempts: 1,
      maxAttempts: 1,
      queuedAt: new Date(queued).toISOString(),
      startedAt: new Date(queued + 5).toISOString(),
      attemptStartedAt: new Date(queued + 5).toISOString(),
      finishedAt: new Date(queued + 45).toISOString(),
      durationMs: 40,
      ...(status === 'failed' ? { error: { code: 'SCRIPT.ERROR', message: 'boom' } } : { result: 1 }),
    };
  });
  await inParallel(runs, 64, async (run) => {
    // Created running, then finished, so the run statistics count them as the engine's would.
    await store.runs.create({ ...run, status: 'running' });
    const { status, durationMs, finishedAt, result, error } = run;
    await store.runs.finish(run.id, run.workflow, ['running'], {
      status,
      durationMs: durationMs!,
      finishedAt,
      ...(result === undefined ? {} : { result }),
      ...(error ? { error } : {}),
    });
  });
  return performance.now() - t0;
}

interface Case {
  name: string;
  path: string;
  /** Resolves once the page's main content is on screen. */
  ready(page: Page): Promise<void>;
}

const h1 = (page: Page, name: string) => page.getByRole('heading', { level: 1, name }).waitFor();
const cases: Case[] = [
  { name: 'baseline: minimal HTML, same origin', path: BASELINE, ready: (p) => h1(p, 'Baseline') },
  {
    name: 'Overview (/)',
    path: '/',
    ready: async (p) => {
      await h1(p, 'Overview');
      // Both run lists answered: nothing is running (an empty list says so), and failures are listed.
      await p.getByRole('region', { name: 'Running runs' }).getByText('No runs are running.').waitFor();
      await p.getByRole('region', { name: 'Recently failed runs' }).locator('a[href^="/runs/"]').first().waitFor();
    },
  },
  {
    name: 'Workflows (/workflows)',
    path: '/workflows',
    ready: async (p) => {
      await h1(p, 'Workflows');
      await p.locator('main a[href^="/workflows/"]').first().waitFor();
    },
  },
  {
    name: 'Runs (/runs)',
    path: '/runs',
    ready: async (p) => {
      await h1(p, 'Runs');
      await p.locator('main a[href^="/runs/"]').first().waitFor();
    },
  },
];

const t = await startTestSystem({ engine: false });
const fetch = (req: Request, ...rest: unknown[]) =>
  new URL(req.url).pathname === BASELINE
    ? new Response(BASELINE_HTML, { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' } })
    : (t.app.fetch as (r: Request, ...x: unknown[]) => Response | Promise<Response>)(req, ...rest);
// The baseline page is answered in front of the API's app, on the same server and port.
const api = await serveApi({ app: { fetch } } as unknown as Pick<TestSystem, 'app'>);
const browser = await startBrowser();
try {
  const seedMs = await seed(t);
  const [stored, indexed] = await Promise.all([t.system.stores.workflows.list(), t.redisClient.zcard(t.keys.runsAll)]);
  if (stored.length !== workflows || indexed !== workflows * runsPer) throw new Error(`seeded ${stored.length} workflows and ${indexed} runs`);

  const time = async (ctx: BrowserContext, c: Case) => {
    const page = await ctx.newPage();
    try {
      const t0 = performance.now();
      await page.goto(c.path, { waitUntil: 'commit' });
      await c.ready(page).catch(async (err: unknown) => {
        // What the page showed instead, so a failed bench says why.
        throw new Error(
          `${c.name}: ${String(err)}\npage text: ${(
            await page
              .locator('body')
              .innerText()
              .catch(() => '?')
          ).slice(0, 2000)}`,
        );
      });
      return performance.now() - t0;
    } finally {
      await page.close();
    }
  };
  const results: Array<{ name: string; cold: number[]; warm: number[] }> = [];
  for (const c of cases) {
    // Once untimed: the server's file cache and the first request's JIT are not what is measured.
    const first = await browser.context(api.url);
    await time(first, c);
    await first.close();
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const ctx = await browser.context(api.url);
      cold.push(await time(ctx, c));
      warm.push(await time(ctx, c));
      await ctx.close();
    }
    results.push({ name: c.name, cold, warm });
  }

  console.log(
    `dashboard pages in headless Chromium on loopback, ${workflows} workflows and ${workflows * runsPer} runs (seeded through the stores in ${(seedMs / 1000).toFixed(1)} s), ${rounds} rounds each`,
  );
  console.log('navigation → main content rendered; cold: fresh context (nothing cached), warm: same context again. Target: first page within 1 s.');
  console.log('page                                   cold p50    cold p90    warm p50    warm p90    cold p50 vs baseline');
  const base = pct(results[0]!.cold, 50);
  for (const r of results) {
    const cell = (xs: number[], p: number) => `${pct(xs, p).toFixed(0)} ms`.padEnd(12);
    console.log(`${r.name.padEnd(38)} ${cell(r.cold, 50)}${cell(r.cold, 90)}${cell(r.warm, 50)}${cell(r.warm, 90)}${(pct(r.cold, 50) / base).toFixed(2)}x`);
  }
} finally {
  await browser.close();
  await api.close();
  await t.stop();
}
