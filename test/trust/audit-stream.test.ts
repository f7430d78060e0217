import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The audit stream through the public API: who (token name, or workflow/run for script
// effects), what, before → after, outcome; filtered and paged newest first.
const ROOT = { authorization: 'Bearer root-secret-0123456789' };
const WRITER = { authorization: 'Bearer writer-secret-0123456789' };
const VIEWER = { authorization: 'Bearer viewer-secret-0123456789' };

const gateway = (port: number) => ({
  port,
  routes: {
    stable: { weight: 100, targets: [{ host: '127.0.0.1', port: 19_001 }] },
    canary: { weight: 0, targets: [{ host: '127.0.0.1', port: 19_002 }] },
  },
});

describe('audit stream', () => {
  let t: TestSystem;
  let dir: string;
  const audit = async (query: string) => {
    const res = await t.call('GET', `/api/v1/audit${query}`, undefined, ROOT);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { entries: Array<Record<string, any>>; next?: string };
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veer-audit-'));
    const file = join(dir, 'tokens');
    writeFileSync(
      file,
      `root:admin:${ROOT.authorization.slice(7)}\nwriter:write:${WRITER.authorization.slice(7)}\nviewer:read:${VIEWER.authorization.slice(7)}\n`,
    );
    t = await startTestSystem({ env: { VEER_API_TOKENS_FILE: file } });
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records API mutations with the token name, the call, the outcome and before → after', async () => {
    assert.equal((await t.call('PUT', '/api/v1/workflows/noop', { script: 'export default async function () { return 1 }' }, WRITER)).status, 200);
    assert.equal((await t.call('PUT', '/api/v1/gateways/web', gateway(19_500), WRITER)).status < 300, true);
    assert.equal((await t.call('PUT', '/api/v1/gateways/web/weights', { stable: 70, canary: 30 }, WRITER)).status, 200);
    assert.equal((await t.call('DELETE', '/api/v1/workflows/noop', undefined, VIEWER)).status, 403);
    await t.call('GET', '/api/v1/workflows', undefined, WRITER);

    const { entries } = await audit('?limit=10');
    const [refused, weights, put, wf] = entries;
    assert.equal(entries.length, 4, 'reads are not audited');
    assert.deepEqual(
      { actor: refused.actor, action: refused.action, resource: refused.resource, outcome: refused.outcome, status: refused.status, code: refused.code },
      { actor: 'viewer', action: 'DELETE /api/v1/workflows/noop', resource: 'workflows/noop', outcome: 'refused', status: 403, code: 'FORBIDDEN' },
    );
    assert.equal(weights.actor, 'writer');
    assert.equal(weights.action, 'PUT /api/v1/gateways/web/weights');
    assert.equal(weights.resource, 'gateways/web');
    assert.equal(weights.outcome, 'ok');
    assert.deepEqual(weights.before, { stable: 100, canary: 0 });
    assert.deepEqual(weights.after, { stable: 70, canary: 30 });
    assert.equal(put.action, 'PUT /api/v1/gateways/web');
    assert.equal(wf.resource, 'workflows/noop');
    assert.equal(wf.after.version, 1);
    assert.ok(Date.parse(wf.time) <= Date.parse(refused.time), 'newest first');
    for (const e of entries) assert.ok(!JSON.stringify(e).includes('secret'), 'no secret in the stream');
  });

  it('leaves no entry for a dry-run PUT (veer apply and diff plan with them), yet checks its scope', async () => {
    const before = (await audit('?limit=100')).entries.length;
    const planned = await t.call('PUT', '/api/v1/workflows/planned?dryRun=true', { script: 'export default async () => 1' }, WRITER);
    assert.equal(planned.status, 200, JSON.stringify(planned.body));
    assert.equal(planned.body.outcome, 'created');
    assert.equal((await t.call('PUT', '/api/v1/workflows/planned?dryRun=true', { script: 'export default async () => 1' }, VIEWER)).status, 403);
    assert.equal((await audit('?limit=100')).entries.length, before, 'nothing changed, nothing recorded');
  });

  it("records a script's setWeights as workflow/<name>/<run> with before → after, and a refused change as refused", async () => {
    await t.call('PUT', '/api/v1/gateways/shop', gateway(19_501), ROOT);
    await t.call('PUT', '/api/v1/gateways/other', gateway(19_502), ROOT);
    const script = `export default async function (ctx) {
      await ctx.gateways.setWeights('shop', { stable: 90, canary: 10 });
      try { await ctx.gateways.setWeights('other', { stable: 0, canary: 100 }) } catch (e) { return 'refused' }
      return 'changed both';
    }`;
    assert.equal((await t.call('PUT', '/api/v1/workflows/shop-canary', { script, permissions: { gateways: ['shop'] } }, ROOT)).status, 200);
    const run = await t.call('POST', '/api/v1/workflows/shop-canary/runs?wait=true', {}, ROOT);
    assert.equal(run.body.status, 'succeeded', JSON.stringify(run.body));
    assert.equal(run.body.result, 'refused');

    const mine = await waitFor(async () => {
      const page = await audit(`?actor=workflow/shop-canary`);
      return page.entries.length >= 2 && page.entries;
    });
    const [refusal, change] = mine;
    assert.equal(change.actor, `workflow/shop-canary/${run.body.id}`);
    assert.equal(change.action, 'ctx.gateways.setWeights');
    assert.equal(change.resource, 'gateways/shop');
    assert.equal(change.outcome, 'ok');
    assert.deepEqual(change.before, { stable: 100, canary: 0 });
    assert.deepEqual(change.after, { stable: 90, canary: 10 });
    assert.equal(refusal.resource, 'gateways/other');
    assert.equal(refusal.outcome, 'refused');
    assert.equal(refusal.code, 'PERMISSION');
    // The API call that started the run is the token's own entry.
    const started = (await audit('?actor=root&resource=workflows/shop-canary')).entries;
    assert.ok(started.some((e) => e.action === 'POST /api/v1/workflows/shop-canary/runs' && e.after?.runId === run.body.id));
  });

  it('filters by actor, resource (a kind or one name) and since, and pages with a cursor', async () => {
    const mark = Date.now();
    for (const w of [10, 20, 30, 40, 50])
      assert.equal((await t.call('PUT', '/api/v1/gateways/web/weights', { stable: 100 - w, canary: w }, WRITER)).status, 200);
    const recent = await audit(`?since=${mark}&resource=gateways/web`);
    assert.deepEqual(
      recent.entries.map((e) => e.after.canary),
      [50, 40, 30, 20, 10],
    );
    assert.ok(recent.entries.every((e) => e.actor === 'writer'));

    const first = await audit(`?since=${mark}&limit=2`);
    assert.equal(first.entries.length, 2);
    assert.ok(first.next);
    const second = await audit(`?since=${mark}&limit=2&cursor=${first.next}`);
    assert.deepEqual(
      [...first.entries, ...second.entries].map((e) => e.after.canary),
      [50, 40, 30, 20],
    );
    const since = new Date(mark).toISOString();
    assert.equal((await audit(`?since=${encodeURIComponent(since)}&resource=gateways`)).entries.length, 5, 'a kind matches all its names');
    assert.equal((await audit('?resource=gateways/we')).entries.length, 0, 'a prefix must end at a /');
    assert.equal((await audit('?actor=viewer')).entries.length, 1);
    assert.equal((await t.call('GET', '/api/v1/audit?cursor=nonsense', undefined, ROOT)).status, 400);
    assert.equal((await t.call('GET', '/api/v1/audit?since=yesterday', undefined, ROOT)).status, 400);
  });
});

describe('audit without tokens', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(() => t.stop());

  it('records the caller as anonymous', async () => {
    assert.equal((await t.call('PUT', '/api/v1/workflows/noop', { script: 'export default async function () { return 1 }' })).status, 200);
    const res = await t.call('GET', '/api/v1/audit?resource=workflows/noop');
    assert.equal(res.status, 200);
    assert.equal(res.body.entries[0].actor, 'anonymous');
  });
});
