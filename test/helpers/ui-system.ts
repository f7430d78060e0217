import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveApi } from '../e2e/serve-api.ts';
import { ensureUiBuilt, startBrowser, type TestBrowser } from './browser.ts';
import { startTestSystem, type TestSystem } from './test-system.ts';
import { waitFor } from './wait-for.ts';

/**
 * The dashboard as a user meets it: a test system (API + one engine) served on a loopback port,
 * the built dashboard at `/` of the same origin, and a headless Chromium to drive it.
 */
export interface UiSystem {
  t: TestSystem;
  url: string;
  browser: TestBrowser;
  stop(): Promise<void>;
}

const DIST = fileURLToPath(new URL('../../ui/dist', import.meta.url));

/** The built files index.html and the scripts name (`/assets/x.js`, and chunk to chunk `"./y.js"`), each as assets/<file>. */
function referencedAssets(dir: string): string[] {
  const texts = [
    readFileSync(join(dir, 'index.html'), 'utf8'),
    ...readdirSync(join(dir, 'assets'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(dir, 'assets', f), 'utf8')),
  ];
  return [...new Set(texts.flatMap((text) => [...text.matchAll(/(?:assets\/|"\.\/)([\w.-]+\.(?:js|css))/g)].map((m) => `assets/${m[1]}`)))];
}

/**
 * A private copy of the built dashboard: a rebuild of ui/dist while a test runs (another
 * checkout step, `npm run build:ui`) would replace the hashed chunks the open page still
 * imports lazily. Copied again while the copy caught a build half-written (a file it names is missing).
 */
async function snapshotUi(): Promise<string> {
  ensureUiBuilt();
  return waitFor(
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'veer-ui-dist-'));
      try {
        cpSync(DIST, dir, { recursive: true });
        if (referencedAssets(dir).every((a) => existsSync(join(dir, a)))) return dir;
      } catch {
        /* a file went away mid-copy: a build is under way */
      }
      rmSync(dir, { recursive: true, force: true });
      return undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `a complete build in ${DIST}` },
  );
}

export async function startUiSystem(options: { env?: Record<string, string>; engine?: boolean } = {}): Promise<UiSystem> {
  const uiDir = options.env?.VEER_UI_DIR ? undefined : await snapshotUi();
  const t = await startTestSystem({ engine: options.engine ?? true, env: { ...(uiDir ? { VEER_UI_DIR: uiDir } : {}), ...options.env } });
  const api = await serveApi(t);
  let browser: TestBrowser;
  try {
    browser = await startBrowser();
  } catch (err) {
    await api.close();
    await t.stop();
    if (uiDir) rmSync(uiDir, { recursive: true, force: true });
    throw err;
  }
  return {
    t,
    url: api.url,
    browser,
    async stop() {
      await browser.close();
      await api.close();
      await t.stop();
      if (uiDir) rmSync(uiDir, { recursive: true, force: true });
    },
  };
}
