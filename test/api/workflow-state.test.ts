import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

// Counts its runs in state, so the test sees what a script sees after the API edits its state.
const counter = "export default async function (ctx) { const n = ((await ctx.state.get('runs')) ?? 0) + 1; await ctx.state.set('runs', n); return n }";

describe('workflow state API', () => {
  let t: TestSystem;
  const wf = workflowCalls(() => t);
  before(async () => {
    t = await startTestSystem({ engine: true });
  });
  after(() => t.stop());

  it('sets any JSON value by key, lists every key, and deletes keys one by one', async () => {
    await wf.put('canary', { script: counter });
    assert.deepEqual((await t.call('GET', '/api/v1/workflows/canary/state')).body, { state: {} });
    const values: Record<string, unknown> = { step: 2, phase: 'paused', cleared: null, history: [{ weight: 5, verdict: 'pass' }], flag: false };
    for (const [key, value] of Object.entries(values)) {
      const res = await t.call('PUT', `/api/v1/workflows/canary/state/${key}`, value);
      assert.equal(res.status, 200, `${key}: ${JSON.stringify(res.body)}`);
      assert.deepEqual(res.body, { key, value });
    }
    assert.deepEqual((await t.call('GET', '/api/v1/workflows/canary/state')).body.state, values);

    assert.equal((await t.call('DELETE', '/api/v1/workflows/canary/state/step')).status, 204);
    const again = await t.call('DELETE', '/api/v1/workflows/canary/state/step');
    assert.equal(again.status, 404, 'an absent key: a typo is not mistaken for a reset');
    assert.equal(again.body.code, 'NOT_FOUND');
    assert.equal('step' in (await t.call('GET', '/api/v1/workflows/canary/state')).body.state, false);
  });

  it('takes a key with characters that need escaping in the path', async () => {
    await wf.put('escaped', { script: counter });
    const key = 'release 2.1 état';
    const res = await t.call('PUT', `/api/v1/workflows/escaped/state/${encodeURIComponent(key)}`, 'ok');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.key, key);
    assert.deepEqual((await t.call('GET', '/api/v1/workflows/escaped/state')).body.state, { [key]: 'ok' });
  });

  it('is what the script sees, and a reset makes the next run start from nothing', async () => {
    await wf.put('counting', { script: counter });
    assert.equal(await wf.result('counting'), 1);
    assert.equal(await wf.result('counting'), 2);
    assert.deepEqual((await t.call('GET', '/api/v1/workflows/counting/state')).body.state, { runs: 2 });

    assert.equal((await t.call('PUT', '/api/v1/workflows/counting/state/runs', 10)).status, 200);
    assert.equal(await wf.result('counting'), 11, 'the run read the value the API set');

    await t.call('PUT', '/api/v1/workflows/counting/state/other', 'x');
    const reset = await t.call('DELETE', '/api/v1/workflows/counting/state');
    assert.equal(reset.status, 200);
    assert.deepEqual(reset.body, { deleted: 2 });
    assert.deepEqual((await t.call('GET', '/api/v1/workflows/counting/state')).body.state, {});
    assert.equal(await wf.result('counting'), 1);
    assert.deepEqual((await t.call('DELETE', '/api/v1/workflows/counting/state')).body, { deleted: 1 });
    assert.deepEqual((await t.call('DELETE', '/api/v1/workflows/counting/state')).body, { deleted: 0 });
  });

  it('answers 400 naming the key for a key or value over the limits, and for a body that is not JSON', async () => {
    await wf.put('limits', { script: counter });
    // 129 two-byte characters: within 256 characters, over 256 bytes.
    const long = 'é'.repeat(129);
    const badKey = await t.call('PUT', `/api/v1/workflows/limits/state/${encodeURIComponent(long)}`, 1);
    assert.equal(badKey.status, 400);
    assert.equal(badKey.body.code, 'VALIDATION');
    assert.ok(
      badKey.body.details.issues.some((i: { path: string }) => i.path === 'key'),
      JSON.stringify(badKey.body.details),
    );

    const big = await t.call('PUT', '/api/v1/workflows/limits/state/blob', 'x'.repeat(70 * 1024));
    assert.equal(big.status, 400);
    assert.ok(
      big.body.details.issues.some((i: { path: string }) => i.path === 'blob'),
      JSON.stringify(big.body.details),
    );

    const notJson = await t.app.request('/api/v1/workflows/limits/state/step', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    assert.equal(notJson.status, 400);
    const refused = (await notJson.json()) as { code: string; message: string; details: { issues: Array<{ path: string }> } };
    assert.equal(refused.code, 'VALIDATION');
    assert.match(refused.message, /not valid JSON/);
    assert.deepEqual(
      refused.details.issues.map((i) => i.path),
      ['body'],
    );
    const noBody = await t.call('PUT', '/api/v1/workflows/limits/state/step');
    assert.equal(noBody.status, 400, 'no body is not an empty object');
    assert.ok(noBody.body.details.issues.some((i: { path: string }) => i.path === 'body'));
    assert.deepEqual((await t.call('GET', '/api/v1/workflows/limits/state')).body.state, {}, 'nothing was stored');
  });

  it('answers 404 for an unknown workflow on every state route', async () => {
    const calls: Array<[string, string, unknown]> = [
      ['GET', '/api/v1/workflows/nobody/state', undefined],
      ['PUT', '/api/v1/workflows/nobody/state/step', 1],
      ['DELETE', '/api/v1/workflows/nobody/state/step', undefined],
      ['DELETE', '/api/v1/workflows/nobody/state', undefined],
    ];
    for (const [method, path, body] of calls) {
      const res = await t.call(method, path, body);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(res.body.code, 'NOT_FOUND');
      assert.match(res.body.message, /workflow 'nobody'/);
    }
  });
});
