import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where the browser tests leave their screenshots (git-ignored; the README's two are copied from here). */
export const SCREENSHOTS = join(ROOT, 'test/output/screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Debian's Chromium (services.md §7), kept off the network: no updates, sync, QUIC or background fetches. */
export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * The dashboard's built files must exist for the API to serve them: `npm ci` builds them
 * (prepare); a checkout that skipped that gets them built once here, before any browser starts.
 */
export function ensureUiBuilt(): void {
  if (existsSync(join(ROOT, 'ui/dist/index.html'))) return;
  execFileSync('npm', ['run', '-s', 'build:ui'], { cwd: ROOT, stdio: 'inherit' });
}

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (its own cookies) at `baseURL`, 1280×800 unless `viewport` says. */
  context(baseURL: string, options?: { viewport?: { width: number; height: number } }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile in a temp dir (removed by close). */
export async function startBrowser(): Promise<TestBrowser> {
  ensureUiBuilt();
  const profile = await mkdtemp(join(tmpdir(), 'veer-chromium-'));
  // launchPersistentContext would tie the profile to one context; a plain launch with
  // --user-data-dir is refused by Playwright, so the profile dir is only where Chromium's own files go.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: profile, XDG_CACHE_HOME: profile },
  });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    async context(baseURL, options = {}) {
      // bypassCSP: the page's CSP (script-src 'self') would refuse axe-core's injected script; nothing else relies on it being off.
      const ctx = await browser.newContext({ baseURL, viewport: options.viewport ?? { width: 1280, height: 800 }, bypassCSP: true, reducedMotion: 'reduce' });
      ctx.setDefaultTimeout(30_000);
      contexts.push(ctx);
      return ctx;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as test/output/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

/**
 * Runs axe-core (WCAG 2 A/AA rules) on the page as it is and returns the serious and critical
 * violations, each with the elements it found, so an assertion message says what to fix.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE });
  const result = (await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    return axe.run((globalThis as unknown as { document: unknown }).document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
  })) as { violations: AxeViolation[] };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
}

/** A readable summary of violations for an assertion message. */
export function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join('\n')}`)
    .join('\n');
}

/** Logs the page in through the login form and waits for the header's "Log out" button. */
export async function logIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor({ timeout: 30_000 });
}

/**
 * A fetch made by the page itself (its cookies go along, same origin), for what a script on the
 * page could do: the status and the parsed JSON body (undefined when not JSON).
 */
export async function pageFetch(
  page: Page,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any }> {
  return page.evaluate(
    async ({ method, path, body, headers }) => {
      const res = await fetch(path, {
        method,
        credentials: 'same-origin',
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, body: parsed as any };
    },
    { method, path, body: options.body, headers: options.headers ?? {} },
  );
}
