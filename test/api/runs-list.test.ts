import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

// GET /runs: every workflow's runs in one list, paged by cursor. No engine: runs stay queued
// unless a test moves them, so what each list holds is exactly what the test made.
const SECRETS = { root: 'root-secret-0123456789', shop: 'shop-secret-0123456789' };
const bearer = (name: keyof typeof SECRETS) => ({ authorization: `Bearer ${SECRETS[name]}` });
const script = 'export default async function () { return 1 }';
const HISTORY = 6;

interface ListedRun {
  id: string;
  workflow: string;
  status: string;
  queuedAt: string;
}

describe('GET /runs across workflows', () => {
  let t: TestSystem;
  let dir: string;
  const made: ListedRun[] = [];

  const list = async (query: string, who: keyof typeof SECRETS = 'root') => {
    const res = await t.call('GET', `/api/v1/runs${query}`, undefined, bearer(who));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { runs: ListedRun[]; next?: string };
  };
  /** Every page from `query` on, following `next`. */
  const all = async (query: string, who: keyof typeof SECRETS = 'root') => {
    const seen: ListedRun[] = [];
    let page = await list(query, who);
    for (;;) {
      seen.push(...page.runs);
      if (!page.next) return seen;
      page = await list(`${query}${query ? '&' : '?'}before=${encodeURIComponent(page.next)}`, who);
    }
  };
  const start = async (workflow: string) => {
    const res = await t.call('POST', `/api/v1/workflows/${workflow}/runs`, {}, bearer('root'));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as ListedRun;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veer-runs-list-'));
    const file = join(dir, 'tokens');
    writeFileSync(file, [`root:admin:${SECRETS.root}`, `shop:read:shop-*:${SECRETS.shop}`].join('\n'));
    t = await startTestSystem({ engine: false, env: { VEER_API_TOKENS_FILE: file, VEER_RUN_HISTORY: String(HISTORY) } });
    for (const name of ['shop-a', 'shop-b', 'billing']) {
      const res = await t.call('PUT', `/api/v1/workflows/${name}`, { script, overlap: 'allow' }, bearer('root'));
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    // Interleaved, so "newest first" has to merge the workflows.
    for (let i = 0; i < 3; i++) for (const name of ['shop-a', 'billing', 'shop-b']) made.push(await start(name));
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the runs of every workflow, newest first', async () => {
    const { runs, next } = await list('?limit=200');
    assert.equal(next, undefined);
    assert.deepEqual(new Set(runs.map((r) => r.id)), new Set(made.map((r) => r.id)));
    assert.deepEqual(new Set(runs.map((r) => r.workflow)), new Set(['shop-a', 'shop-b', 'billing']));
    for (let i = 1; i < runs.length; i++) assert.ok(runs[i - 1].queuedAt >= runs[i].queuedAt, `${runs[i - 1].queuedAt} before ${runs[i].queuedAt}`);
    // Created one after another: the last made is the first listed.
    assert.equal(runs[0].id, made[made.length - 1].id);
  });

  it('visits every run exactly once page by page, runs of the same millisecond included', async () => {
    // Give every run one score, as runs queued in the same millisecond have.
    const ids = made.map((r) => r.id);
    for (const id of ids) await t.redisClient.zadd(t.keys.runsAll, 'XX', 1_700_000_000_000, id);
    for (const limit of [1, 2, 4]) {
      const seen = (await all(`?limit=${limit}`)).map((r) => r.id);
      assert.equal(seen.length, ids.length, `limit ${limit}: ${seen.length} ids`);
      assert.deepEqual(new Set(seen), new Set(ids), `limit ${limit}`);
    }
  });

  it('filters by status and by workflow', async () => {
    const failed = made.filter((_, i) => i % 4 === 0);
    for (const r of failed) assert.equal(await t.system.stores.runs.transition(r.id, ['queued'], { status: 'failed' }), true);
    const listed = await all('?status=failed&limit=1');
    assert.deepEqual(new Set(listed.map((r) => r.id)), new Set(failed.map((r) => r.id)));
    assert.equal(listed.length, failed.length);
    const either = await list('?status=failed,queued&limit=200');
    assert.equal(either.runs.length, made.length);
    const billing = await all('?workflow=billing&limit=2');
    assert.deepEqual(
      billing.map((r) => r.id).sort(),
      made
        .filter((r) => r.workflow === 'billing')
        .map((r) => r.id)
        .sort(),
    );
    const billingFailed = await list('?workflow=billing&status=failed');
    assert.deepEqual(
      billingFailed.runs.map((r) => r.id).sort(),
      failed
        .filter((r) => r.workflow === 'billing')
        .map((r) => r.id)
        .sort(),
    );
  });

  it('answers 400 VALIDATION naming the field for an unknown status or a bad cursor', async () => {
    const bad = await t.call('GET', '/api/v1/runs?status=failed,exploded', undefined, bearer('root'));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'VALIDATION');
    assert.ok(
      bad.body.details.issues.some((i: { path: string }) => i.path === 'status'),
      JSON.stringify(bad.body),
    );
    assert.match(bad.body.message, /exploded/);
    const cursor = await t.call('GET', '/api/v1/runs?before=nonsense', undefined, bearer('root'));
    assert.equal(cursor.status, 400);
    assert.equal(cursor.body.code, 'VALIDATION');
    assert.ok(
      cursor.body.details.issues.some((i: { path: string }) => i.path === 'before'),
      JSON.stringify(cursor.body),
    );
  });

  it('shows a glob-limited token only the runs of its workflows', async () => {
    const shop = await all('?limit=2', 'shop');
    assert.deepEqual(
      shop.map((r) => r.id).sort(),
      made
        .filter((r) => r.workflow.startsWith('shop-'))
        .map((r) => r.id)
        .sort(),
    );
    assert.deepEqual((await list('?workflow=billing', 'shop')).runs, []);
  });

  it('drops trimmed runs from the global list as the per-workflow history trims them', async () => {
    const res = await t.call('PUT', '/api/v1/workflows/trimmed', { script, overlap: 'allow' }, bearer('root'));
    assert.equal(res.status, 200);
    const runs: ListedRun[] = [];
    for (let i = 0; i < HISTORY + 2; i++) runs.push(await start('trimmed'));
    const listed = new Set((await all('?limit=200')).map((r) => r.id));
    for (const r of runs.slice(0, 2)) {
      assert.equal(listed.has(r.id), false, `trimmed run ${r.id} still listed`);
      assert.equal(await t.redisClient.zscore(t.keys.runsAll, r.id), null);
    }
    for (const r of runs.slice(2)) assert.equal(listed.has(r.id), true);
  });

  it('answers a sparse filter short, with `next`, after a bounded scan, and goes on from there', async () => {
    // More ids than one call scans, newer than every run, none of them failed (their records are gone).
    const fakes = Array.from({ length: 2100 }, (_, i) => [4_000_000_000_000 + i, `fake-${i}`]).flat();
    await t.redisClient.zadd(t.keys.runsAll, ...fakes);
    const first = await list('?status=failed');
    assert.deepEqual(first.runs, []);
    assert.ok(first.next, 'a short page says where to go on');
    const failed = await all('?status=failed');
    assert.ok(failed.length > 0 && failed.every((r) => r.status === 'failed'));
    assert.equal(await t.redisClient.zscore(t.keys.runsAll, 'fake-0'), null, 'ids without a record are dropped as they are met');
  });

  it('skips and forgets ids whose record is gone', async () => {
    const victim = made[1];
    await t.redisClient.del(t.keys.run(victim.id));
    const listed = (await all('?limit=3')).map((r) => r.id);
    assert.equal(listed.includes(victim.id), false);
    assert.equal(await t.redisClient.zscore(t.keys.runsAll, victim.id), null);
  });
});
