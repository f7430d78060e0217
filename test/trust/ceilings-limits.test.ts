import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowSpecSchema } from '../../engine/domain/workflow.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/**
 * Class 10 of the trust issue: every limit was the uploader's choice (up to 24 h and 1 GB).
 * The operator's ceilings (VEER_MAX_*) refuse uploads over them, with the other issues of
 * the same body, and hold stored workflows to a ceiling lowered after their upload.
 */
const script = 'export default async function () { return 1 }';
const issueAt = (body: any, path: string) => (body?.details?.issues ?? []).find((i: any) => i.path === path);

describe('operator ceilings on workflow limits (default ceilings)', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(() => t.stop());

  it('refuses a timeout over VEER_MAX_TIMEOUT_MS, naming the field and the ceiling', async () => {
    const res = await t.call('PUT', '/api/v1/workflows/day-long', { script, limits: { timeoutMs: 86_400_000 } });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'VALIDATION');
    assert.match(res.body.message, /limits\.timeoutMs: 86400000 is over the operator ceiling VEER_MAX_TIMEOUT_MS=900000/);
    assert.ok(issueAt(res.body, 'limits.timeoutMs'));
    assert.equal((await t.call('GET', '/api/v1/workflows/day-long')).status, 404, 'nothing was stored');
  });

  it('refuses memory, CPU and concurrency over their ceilings, all in one answer with the other issues of the body', async () => {
    const res = await t.call('PUT', '/api/v1/workflows/greedy', {
      script: 'export default async function () {\n  return 1 +;\n}',
      limits: { timeoutMs: 60_000, memoryMb: 1024, cpuMs: 3_600_000, concurrency: 500 },
      trigger: { cron: 'every minute' },
    });
    assert.equal(res.status, 400);
    assert.match(issueAt(res.body, 'limits.memoryMb')?.message ?? '', /^1024 is over the operator ceiling VEER_MAX_MEMORY_MB=256$/);
    assert.match(issueAt(res.body, 'limits.cpuMs')?.message ?? '', /^3600000 is over the operator ceiling VEER_MAX_CPU_MS=900000$/);
    assert.match(issueAt(res.body, 'limits.concurrency')?.message ?? '', /^500 is over the operator ceiling VEER_MAX_WORKFLOW_CONCURRENCY=8$/);
    assert.equal(issueAt(res.body, 'limits.timeoutMs'), undefined, 'a timeout within its ceiling is fine');
    assert.ok(issueAt(res.body, 'script'), 'the script error is reported too');
    assert.ok(issueAt(res.body, 'trigger.cron'), 'the cron error is reported too');
  });

  it('reports a ceiling next to schema issues of other fields', async () => {
    const res = await t.call('PUT', '/api/v1/workflows/mixed', { script, overlap: 'sometimes', limits: { memoryMb: 512 } });
    assert.equal(res.status, 400);
    assert.ok(issueAt(res.body, 'overlap'));
    assert.ok(issueAt(res.body, 'limits.memoryMb'));
  });

  it('accepts limits at the ceilings', async () => {
    const res = await t.call('PUT', '/api/v1/workflows/at-ceiling', {
      script,
      limits: { timeoutMs: 900_000, memoryMb: 256, cpuMs: 900_000, concurrency: 8 },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.limits, { timeoutMs: 900_000, memoryMb: 256, cpuMs: 900_000, concurrency: 8 });
  });
});

describe('operator ceilings set by the operator', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ env: { VEER_MAX_TIMEOUT_MS: '300', VEER_MAX_MEMORY_MB: '32', VEER_MAX_WORKFLOW_CONCURRENCY: '2' } });
  });
  after(() => t.stop());

  it('refuses uploads over the configured ceilings', async () => {
    const res = await t.call('PUT', '/api/v1/workflows/too-long', { script, limits: { timeoutMs: 1000, memoryMb: 64, concurrency: 3 } });
    assert.equal(res.status, 400);
    assert.match(issueAt(res.body, 'limits.timeoutMs')?.message ?? '', /VEER_MAX_TIMEOUT_MS=300$/);
    assert.match(issueAt(res.body, 'limits.memoryMb')?.message ?? '', /VEER_MAX_MEMORY_MB=32$/);
    assert.match(issueAt(res.body, 'limits.concurrency')?.message ?? '', /VEER_MAX_WORKFLOW_CONCURRENCY=2$/);
  });

  it('holds a workflow stored before the ceiling was lowered to the ceiling when it runs', async () => {
    // Stored as an earlier, more permissive installation accepted it.
    const source = 'export default async function (ctx) { await ctx.sleep(60000); return "slept" }';
    await t.system.stores.workflows.put('stored-long', WorkflowSpecSchema.parse({ script: source, limits: { timeoutMs: 600_000, memoryMb: 64 } }), source);
    const res = await t.call('POST', '/api/v1/workflows/stored-long/runs?wait=true&timeoutMs=30000', {});
    assert.equal(res.body.status, 'timed_out', JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'SANDBOX.TIMEOUT');
    const stored = await t.call('GET', '/api/v1/workflows/stored-long');
    assert.equal(stored.body.limits.timeoutMs, 600_000, 'the stored version is left as uploaded');
  });
});
