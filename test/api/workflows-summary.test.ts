import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp } from '../../api/app.ts';
import { createWorkflowRoutes } from '../../api/routes/workflows.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

const script = 'export default async function (ctx) { return { ok: true } }';

/**
 * GET /workflows?view=summary, the list screen's query: pages by name, filters by q, and adds
 * each row's newest run and next cron tick. The routes are mounted with the run store here
 * (the summary's `lastRun` needs it); the system's own app checks the default answer.
 */
describe('workflow list summary', () => {
  let t: TestSystem;
  let app: OpenAPIHono;
  const get = async (query: string) => {
    const res = await app.request(`/api/v1/workflows${query}`);
    return { status: res.status, body: (await res.json()) as any };
  };

  before(async () => {
    t = await startTestSystem({ engine: false });
    app = createApp({
      logger: silentLogger(),
      tokens: [],
      routers: [createWorkflowRoutes({ workflows: t.system.stores.workflows, runs: t.system.stores.runs })],
    });
    // Stored out of name order: the summary sorts.
    for (const n of [5, 1, 4, 2, 3]) assert.equal((await t.call('PUT', `/api/v1/workflows/app-${n}`, { script })).status, 200);
    assert.equal((await t.call('PUT', '/api/v1/workflows/nightly', { script, trigger: { cron: '30 2 * * *', timezone: 'Europe/Amsterdam' } })).status, 200);
    assert.equal((await t.call('PUT', '/api/v1/workflows/on-alert', { script, trigger: { events: { tags: ['alert'] } } })).status, 200);
  });
  after(() => t.stop());

  it('pages by name with total, without scripts', async () => {
    const first = await get('?view=summary&limit=2');
    assert.equal(first.status, 200);
    assert.equal(first.body.total, 7);
    assert.deepEqual(
      first.body.workflows.map((w: { name: string }) => w.name),
      ['app-1', 'app-2'],
    );
    const row = first.body.workflows[0];
    assert.equal(row.script, undefined);
    assert.equal(row.compiled, undefined);
    assert.equal(row.version, 1);
    assert.deepEqual(row.labels, {});
    assert.equal(typeof row.updatedAt, 'string');

    const later = await get('?view=summary&limit=3&offset=4');
    assert.deepEqual(
      later.body.workflows.map((w: { name: string }) => w.name),
      ['app-5', 'nightly', 'on-alert'],
    );
    assert.equal(later.body.total, 7);
    assert.equal((await get('?view=summary&offset=7')).body.workflows.length, 0);
  });

  it('filters by a substring of the name before counting', async () => {
    const found = await get('?view=summary&q=ight');
    assert.equal(found.body.total, 1);
    assert.deepEqual(
      found.body.workflows.map((w: { name: string }) => w.name),
      ['nightly'],
    );
    assert.equal((await get('?view=summary&q=nothing-like-it')).body.total, 0);
  });

  it('shows the newest run, or null when there is none', async () => {
    const runs = t.system.stores.runs;
    const base = { workflow: 'app-2', workflowVersion: 1, trigger: { type: 'manual' as const }, input: null, attempts: 1, maxAttempts: 1 };
    // Newest is the one created last; ids ordered the same way keep that so when both land in one millisecond.
    await runs.create({ ...base, id: 'run-1', status: 'failed', queuedAt: '2026-01-01T00:00:00.000Z' });
    await runs.create({ ...base, id: 'run-2', status: 'succeeded', queuedAt: '2026-01-02T00:00:00.000Z', finishedAt: '2026-01-02T00:00:01.000Z' });
    const page = (await get('?view=summary&q=app-')).body.workflows;
    const byName = Object.fromEntries(page.map((w: { name: string }) => [w.name, w]));
    assert.deepEqual(byName['app-2'].lastRun, {
      id: 'run-2',
      status: 'succeeded',
      createdAt: '2026-01-02T00:00:00.000Z',
      finishedAt: '2026-01-02T00:00:01.000Z',
    });
    assert.equal(byName['app-1'].lastRun, null);
  });

  it('gives the next cron tick in its timezone, null for other triggers', async () => {
    const before = Date.now();
    const rows = (await get('?view=summary')).body.workflows;
    const nightly = rows.find((w: { name: string }) => w.name === 'nightly');
    assert.deepEqual(nightly.trigger, { cron: '30 2 * * *', timezone: 'Europe/Amsterdam' });
    const tick = new Date(nightly.nextTick);
    assert.ok(tick.getTime() > before, nightly.nextTick);
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', hour: '2-digit', minute: '2-digit' }).format(tick);
    assert.equal(local, '02:30');
    // A daily tick: the next one is within a day (and a DST hour) of now.
    assert.ok(tick.getTime() <= before + 25 * 3600_000, nightly.nextTick);
    assert.equal(rows.find((w: { name: string }) => w.name === 'on-alert').nextTick, null);
    assert.equal(rows.find((w: { name: string }) => w.name === 'app-1').nextTick, null);
  });

  it('refuses a limit out of range', async () => {
    assert.equal((await get('?view=summary&limit=0')).status, 400);
    assert.equal((await get('?view=summary&limit=201')).status, 400);
    assert.equal((await get('?view=other')).status, 400);
  });

  it('answers as before without a view: every workflow, whole', async () => {
    const plain = await t.call('GET', '/api/v1/workflows');
    assert.equal(plain.status, 200);
    assert.deepEqual(Object.keys(plain.body), ['workflows']);
    assert.equal(plain.body.workflows.length, 7);
    const stored = (await t.system.stores.workflows.list()).map(({ compiled: _c, ...rest }) => rest.name);
    assert.deepEqual(
      plain.body.workflows.map((w: { name: string }) => w.name),
      stored,
    );
    for (const w of plain.body.workflows) {
      assert.equal(w.script, script);
      assert.equal(w.compiled, undefined);
      assert.equal('lastRun' in w, false);
    }
    const direct = await get('');
    assert.deepEqual(direct.body, plain.body);
  });
});
