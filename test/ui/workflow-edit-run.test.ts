import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { screenshot } from '../helpers/browser.ts';
import { startUiSystem, type UiSystem } from '../helpers/ui-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

const NAME = 'ui-slow-logger';
const BROKEN = "export default async function (ctx) { ctx.log.info('oops' }";
// Line 1, then it holds until the test sets state `go`: "line 1 shows while the run is still
// running" then holds by construction, not by how fast the page is.
const FIXED =
  "export default async function (ctx) { ctx.log.info('line 1'); while (!(await ctx.state.get('go'))) await ctx.sleep(100); for (let i = 2; i <= 5; i++) { ctx.log.info('line ' + i); await ctx.sleep(50) } return { done: true } }";

/** Replaces the whole text of the page's script editor (CodeMirror) as a user would: select all, type. */
async function replaceScript(page: Page, text: string): Promise<void> {
  // By attribute: the workflow page also has a section titled "Script" around the editor.
  const content = page.locator('[aria-label="Script"] .cm-content');
  await content.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(text);
  await waitFor(async () => (await content.innerText()).replace(/\s+/g, ' ').trim() === text, {
    timeoutMs: 10_000,
    what: 'the editor to hold the typed script',
  });
}

describe('editing a workflow script and following its run live', () => {
  let ui: UiSystem;
  before(async () => {
    ui = await startUiSystem();
  });
  after(async () => {
    await ui?.stop();
  });

  it('shows a syntax error at its line and column, then saves the fix, runs it and streams its log', async () => {
    const page = await (await ui.browser.context(ui.url)).newPage();
    await page.goto('/workflows');
    await page.getByRole('heading', { level: 1, name: 'Workflows' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'New workflow' }).click();
    await page.getByLabel('Name', { exact: true }).fill(NAME);
    await replaceScript(page, BROKEN);
    await page.getByRole('button', { name: 'Save', exact: true }).click();

    const alert = page.getByRole('alert').filter({ hasText: /line \d+, column \d+/ });
    await alert.waitFor({ timeout: 30_000 });
    // The missing comma is found at the closing brace.
    assert.match((await alert.innerText()) ?? '', new RegExp(`line 1, column ${BROKEN.lastIndexOf('}') + 1}`));
    await page.locator('.cm-lintRange-error, .cm-lint-marker-error').first().waitFor({ timeout: 30_000 });
    await screenshot(page, 'workflow-edit-run-syntax-error');
    assert.equal((await ui.t.call('GET', `/api/v1/workflows/${NAME}`)).status, 404, 'a script with a syntax error was stored');

    await replaceScript(page, FIXED);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(`**/workflows/${NAME}`, { timeout: 30_000 });
    assert.equal((await ui.t.call('GET', `/api/v1/workflows/${NAME}`)).body.script, FIXED);
    await screenshot(page, 'workflow-edit-run-saved');

    await page.getByRole('button', { name: 'Run now', exact: true }).click();
    await page.waitForURL(/\/runs\/[^/]+$/, { timeout: 30_000 });
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    await page.getByRole('heading', { level: 1, name: new RegExp(id) }).waitFor({ timeout: 30_000 });

    const log = page.getByRole('log', { name: 'Log' });
    const status = page.getByRole('main').locator('.status').first();
    await log.getByText('line 1', { exact: true }).waitFor({ timeout: 30_000 });
    assert.ok(['queued', 'running'].includes((await status.innerText()).trim()), `status ${await status.innerText()} while the run waits`);
    assert.equal(await log.getByText('line 5', { exact: true }).count(), 0);
    await screenshot(page, 'workflow-edit-run-live');

    assert.equal((await ui.t.call('PUT', `/api/v1/workflows/${NAME}/state/go`, true)).status, 200);
    await log.getByText('line 5', { exact: true }).waitFor({ timeout: 30_000 });
    await waitFor(async () => (await status.innerText()).trim() === 'succeeded', { timeoutMs: 30_000, what: 'the page to show the run succeeded' });
    for (let i = 1; i <= 5; i++) assert.equal(await log.getByText(`line ${i}`, { exact: true }).count(), 1, `line ${i} shown once`);
    assert.equal((await ui.t.call('GET', `/api/v1/runs/${id}`)).body.status, 'succeeded');
    await screenshot(page, 'workflow-edit-run-done');
  });
});
