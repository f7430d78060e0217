import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

const script = 'export default async function (ctx) { return { ok: true } }';

describe('workflow API', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(() => t.stop());

  it('creates a workflow with defaults and keeps every version', async () => {
    const first = await t.call('PUT', '/api/v1/workflows/hello', { script });
    assert.equal(first.status, 200);
    assert.equal(first.body.version, 1);
    assert.deepEqual(first.body.limits, { timeoutMs: 30000, memoryMb: 64 });
    // Absent means the trigger's default: skip for cron, queue for events (overlapOf).
    assert.equal(first.body.overlap, undefined);
    assert.equal(first.body.overlapQueue, 10);
    assert.equal(first.body.enabled, true);
    assert.equal(first.body.compiled, undefined);

    const second = await t.call('PUT', '/api/v1/workflows/hello', { script: script.replace('true', 'false'), trigger: { cron: '*/5 * * * *' } });
    assert.equal(second.body.version, 2);
    assert.equal(second.body.createdAt, first.body.createdAt);
    assert.deepEqual(second.body.trigger, { cron: '*/5 * * * *', timezone: 'UTC' });

    const versions = await t.call('GET', '/api/v1/workflows/hello/versions');
    assert.deepEqual(
      versions.body.versions.map((v: { version: number }) => v.version),
      [1, 2],
    );
    const v1 = await t.call('GET', '/api/v1/workflows/hello?version=1');
    assert.equal(v1.body.script, script);
    const current = await t.call('GET', '/api/v1/workflows/hello');
    assert.equal(current.body.version, 2);
    const list = await t.call('GET', '/api/v1/workflows');
    assert.deepEqual(
      list.body.workflows.map((w: { name: string }) => w.name),
      ['hello'],
    );
  });

  it('deletes a workflow and then answers 404', async () => {
    await t.call('PUT', '/api/v1/workflows/doomed', { script });
    assert.equal((await t.call('DELETE', '/api/v1/workflows/doomed')).status, 204);
    const gone = await t.call('GET', '/api/v1/workflows/doomed');
    assert.equal(gone.status, 404);
    assert.equal(gone.body.code, 'NOT_FOUND');
    assert.equal((await t.call('DELETE', '/api/v1/workflows/doomed')).status, 404);
    assert.equal((await t.call('GET', '/api/v1/workflows/doomed/runs')).status, 404);
    assert.equal((await t.call('POST', '/api/v1/workflows/doomed/runs', {})).status, 404);
  });

  it('answers 400 naming the field at fault', async () => {
    const cases: Array<[unknown, string]> = [
      [{}, 'script'],
      [{ script: '' }, 'script'],
      [{ script, limits: { timeoutMs: 'soon' } }, 'limits.timeoutMs'],
      [{ script, overlap: 'sometimes' }, 'overlap'],
      [{ script, retries: { attempts: 0 } }, 'retries.attempts'],
      [{ script, trigger: { cron: 'every minute' } }, 'trigger.cron'],
      [{ script, trigger: { cron: '* * * * *', timezone: 'Mars/Olympus' } }, 'trigger.timezone'],
      [{ script, unknownField: 1 }, '(body)'],
    ];
    for (const [body, field] of cases) {
      const res = await t.call('PUT', '/api/v1/workflows/bad', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.code, 'VALIDATION');
      const paths = res.body.details.issues.map((i: { path: string }) => i.path);
      assert.ok(paths.includes(field), `expected ${field} in ${JSON.stringify(res.body)}`);
    }
    assert.equal((await t.call('GET', '/api/v1/workflows/bad')).status, 404, 'nothing stored on a 400');
  });

  it('rejects a script with a syntax error with its line and column, JS and TypeScript alike', async () => {
    const js = await t.call('PUT', '/api/v1/workflows/broken', { script: 'export default async function (ctx) {\n  const x = ;\n}' });
    assert.equal(js.status, 400);
    const issue = js.body.details.issues[0];
    assert.equal(issue.path, 'script');
    assert.equal(issue.line, 2);
    assert.ok(issue.column >= 12 && issue.column <= 13, `column ${issue.column}`);
    const ts = await t.call('PUT', '/api/v1/workflows/broken', {
      script: 'interface A { n: number }\nexport default async function (ctx: A): Promise<number> {\n  return ctx.n +;\n}',
    });
    assert.equal(ts.status, 400);
    assert.equal(ts.body.details.issues[0].line, 3);
  });

  it('refuses oversized bodies with 413 before parsing them', async () => {
    const res = await t.call('PUT', '/api/v1/workflows/huge', { script: `export default async function () { return '${'x'.repeat(3 * 1024 * 1024)}' }` });
    assert.equal(res.status, 413);
    assert.equal(res.body.code, 'PAYLOAD_TOO_LARGE');
    const big = await t.call('PUT', '/api/v1/workflows/huge', { script: `export default async function () { return '${'x'.repeat(600 * 1024)}' }` });
    assert.equal(big.status, 400);
    assert.equal(big.body.details.issues[0].path, 'script');
  });

  it('rejects invalid names', async () => {
    const res = await t.call('PUT', '/api/v1/workflows/Bad_Name', { script });
    assert.equal(res.status, 400);
    assert.equal(res.body.details.issues[0].path, 'name');
  });

  it('serves an OpenAPI document describing the paths', async () => {
    const res = await t.call('GET', '/api/v1/openapi.json');
    assert.equal(res.status, 200);
    assert.equal(res.body.openapi, '3.1.0');
    for (const p of [
      '/api/v1/workflows/{name}',
      '/api/v1/workflows/{name}/runs',
      '/api/v1/runs/{id}',
      '/api/v1/runs/{id}/logs',
      '/api/v1/runs/{id}/cancel',
      '/api/v1/gateways/{name}',
      '/api/v1/gateways/{name}/weights',
      '/api/v1/gateways/{name}/status',
      '/api/v1/gateways/{name}/metrics',
      '/api/v1/deployments',
      '/api/v1/deployments/{name}/scale',
      '/api/v1/events',
      '/api/v1/events/stream',
      '/api/v1/templates',
    ]) {
      assert.ok(res.body.paths[p], `missing ${p}`);
    }
  });

  it('answers 404 for unknown runs and routes', async () => {
    assert.equal((await t.call('GET', '/api/v1/runs/nope')).status, 404);
    assert.equal((await t.call('GET', '/api/v1/nothing-here')).status, 404);
  });
});

describe('bearer-token auth', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ engine: false, env: { VEER_API_TOKENS: 'alpha, beta' } });
  });
  after(() => t.stop());

  it('requires a configured token on /api/v1 and leaves health endpoints open', async () => {
    const none = await t.call('GET', '/api/v1/workflows');
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'UNAUTHORIZED');
    assert.equal((await t.call('GET', '/api/v1/workflows', undefined, { authorization: 'Bearer gamma' })).status, 401);
    assert.equal((await t.call('GET', '/api/v1/workflows', undefined, { authorization: 'Bearer beta' })).status, 200);
    assert.equal((await t.call('GET', '/healthz')).status, 200);
  });
});
