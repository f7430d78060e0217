import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import { serve } from '@hono/node-server';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

describe('runs through the whole engine', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ env: { VEER_RUN_HISTORY: '5', VEER_RUN_LOG_MAX: '50' } });
  });
  after(() => t.stop());

  async function put(name: string, body: Record<string, unknown>) {
    const res = await t.call('PUT', `/api/v1/workflows/${name}`, body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }
  async function runAndWait(name: string, input?: unknown) {
    const res = await t.call('POST', `/api/v1/workflows/${name}/runs?wait=true`, input === undefined ? {} : { input });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  }

  it('runs a TypeScript script with input, env and context, and stores result and logs', async () => {
    await put('hello', {
      env: { GREETING: 'hi' },
      script: [
        'interface Ctx { input: { n: number }; env: Record<string, string>; log: any; workflow: any; run: any }',
        'export default async function (ctx: Ctx): Promise<object> {',
        "  ctx.log.info('starting', { n: ctx.input.n });",
        "  console.log('from console', 42);",
        '  return { doubled: ctx.input.n * 2, greeting: ctx.env.GREETING, wf: ctx.workflow.name, version: ctx.workflow.version, runId: ctx.run.id, trigger: ctx.run.trigger.type };',
        '}',
      ].join('\n'),
    });
    const run = await runAndWait('hello', { n: 21 });
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.result, { doubled: 42, greeting: 'hi', wf: 'hello', version: 1, runId: run.id, trigger: 'manual' });
    assert.equal(run.attempts, 1);
    assert.ok(run.startedAt && run.finishedAt && typeof run.durationMs === 'number');
    const logs = await t.call('GET', `/api/v1/runs/${run.id}/logs`);
    const messages = logs.body.entries.map((e: { message: string }) => e.message);
    assert.ok(messages.includes('starting'));
    assert.ok(messages.some((m: string) => m.includes('from console') && m.includes('42')));
    assert.deepEqual(logs.body.entries.find((e: { message: string }) => e.message === 'starting').fields, { n: 21 });
    const listed = await t.call('GET', '/api/v1/workflows/hello/runs');
    assert.equal(listed.body.runs[0].id, run.id);
  });

  it('keeps state per workflow across runs', async () => {
    await put('counter', {
      script: "export default async function (ctx) { const n = (await ctx.state.get('n')) ?? 0; await ctx.state.set('n', n + 1); return n + 1 }",
    });
    assert.equal((await runAndWait('counter')).result, 1);
    assert.equal((await runAndWait('counter')).result, 2);
    await put('other', { script: "export default async function (ctx) { return (await ctx.state.get('n')) ?? null }" });
    assert.equal((await runAndWait('other')).result, null, 'state is per workflow');
  });

  it('fails a run that throws, with the message and the line in the script', async () => {
    await put('thrower', { script: 'export default async function (ctx) {\n  const a = 1;\n  throw new Error("canary unhealthy");\n}' });
    const run = await runAndWait('thrower');
    assert.equal(run.status, 'failed');
    assert.match(run.error.message, /canary unhealthy/);
    assert.equal(run.error.line, 3);
  });

  it('retries a failing run with backoff and records each attempt', async () => {
    await put('flaky', {
      retries: { attempts: 3, backoffMs: 10 },
      script:
        "export default async function (ctx) { const n = ((await ctx.state.get('tries')) ?? 0) + 1; await ctx.state.set('tries', n); if (n < 2) throw new Error('boom ' + n); return { attempt: ctx.run.attempt } }",
    });
    const run = await runAndWait('flaky');
    assert.equal(run.status, 'succeeded');
    assert.equal(run.attempts, 2);
    assert.deepEqual(run.result, { attempt: 2 });
    const logs = await t.call('GET', `/api/v1/runs/${run.id}/logs`);
    assert.ok(logs.body.entries.some((e: { message: string }) => /attempt 1 of 3 failed: .*boom 1/.test(e.message)));
  });

  it('ends a run past its deadline as timed_out, even while it awaits', async () => {
    await put('sleepy', { limits: { timeoutMs: 300 }, script: 'export default async function (ctx) { await ctx.sleep(60000); return 1 }' });
    const run = await runAndWait('sleepy');
    assert.equal(run.status, 'timed_out');
    await put('spinner', { limits: { timeoutMs: 300 }, script: 'export default async function () { for (;;) {} }' });
    const spin = await runAndWait('spinner');
    assert.equal(spin.status, 'timed_out');
    // The engine keeps serving.
    assert.equal((await runAndWait('hello', { n: 1 })).status, 'succeeded');
  });

  it('cancels a running run and refuses to cancel an ended one', async () => {
    await put('long', { script: 'export default async function (ctx) { ctx.log.info("waiting"); await ctx.sleep(20000); return 1 }' });
    const started = await t.call('POST', '/api/v1/workflows/long/runs', {});
    assert.equal(started.status, 201);
    await waitFor(async () => (await t.call('GET', `/api/v1/runs/${started.body.id}`)).body.status === 'running', { what: 'run to start' });
    const cancel = await t.call('POST', `/api/v1/runs/${started.body.id}/cancel`);
    assert.equal(cancel.status, 202);
    const ended = await waitFor(
      async () => {
        const r = (await t.call('GET', `/api/v1/runs/${started.body.id}`)).body;
        return r.status === 'cancelled' && r;
      },
      { what: 'run to be cancelled' },
    );
    assert.equal(ended.status, 'cancelled');
    const again = await t.call('POST', `/api/v1/runs/${started.body.id}/cancel`);
    assert.equal(again.status, 409);
  });

  it('caps the log of a flooding run and says so', async () => {
    await put('flood', { script: 'export default async function (ctx) { for (let i = 0; i < 5000; i++) ctx.log.info("line " + i); return "done" }' });
    const run = await runAndWait('flood');
    assert.equal(run.status, 'succeeded');
    const logs = await t.call('GET', `/api/v1/runs/${run.id}/logs`);
    assert.ok(logs.body.entries.length <= 52, `got ${logs.body.entries.length} entries`);
    assert.ok(logs.body.entries.some((e: { message: string }) => /cap/.test(e.message)));
  });

  it('keeps a bounded run history per workflow', async () => {
    await put('many', { script: 'export default async function () { return 1 }' });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await runAndWait('many')).id);
    const listed = await t.call('GET', '/api/v1/workflows/many/runs?limit=100');
    assert.deepEqual(
      listed.body.runs.map((r: { id: string }) => r.id),
      ids.slice(-5).reverse(),
    );
    assert.equal((await t.call('GET', `/api/v1/runs/${ids[0]}`)).status, 404);
  });

  it('follows a live log over Server-Sent Events until the run ends', async () => {
    await put('chatty', {
      script: 'export default async function (ctx) { for (let i = 1; i <= 3; i++) { ctx.log.info("tick " + i); await ctx.sleep(50) } return "ok" }',
    });
    const server = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    try {
      const started = await t.call('POST', '/api/v1/workflows/chatty/runs', {});
      const es = new EventSource(`http://127.0.0.1:${port}/api/v1/runs/${started.body.id}/logs?follow=true`);
      const got: string[] = [];
      const end = await new Promise<any>((resolve, reject) => {
        es.addEventListener('log', (e) => got.push(JSON.parse(e.data).message));
        es.addEventListener('end', (e) => resolve(JSON.parse(e.data)));
        es.onerror = (e) => (got.length === 0 ? reject(new Error('SSE error ' + e.message)) : undefined);
      });
      es.close();
      assert.deepEqual(got, ['tick 1', 'tick 2', 'tick 3']);
      assert.equal(end.status, 'succeeded');
    } finally {
      server.close();
    }
  });

  it('reports readiness and Prometheus metrics', async () => {
    const ready = await t.call('GET', '/readyz');
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    assert.equal(ready.body.checks.engines.ok, true);
    const metrics = await t.app.request('/metrics');
    const text = await metrics.text();
    assert.match(text, /veer_runs_finished_total\{status="succeeded"\} [1-9]/);
    assert.match(text, /veer_runs_finished_total\{status="failed"\} [1-9]/);
    assert.match(text, /veer_run_duration_seconds_count [1-9]/);
    assert.match(text, /veer_queue_jobs\{state="waiting"\} \d+/);
  });
});

describe('readiness without an engine', () => {
  it('is not ready when no engine runs', async () => {
    const t = await startTestSystem({ engine: false });
    try {
      const ready = await t.call('GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.checks.redis.ok, true);
      assert.equal(ready.body.checks.engines.ok, false);
    } finally {
      await t.stop();
    }
  });
});
