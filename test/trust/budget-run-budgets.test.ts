import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { assertApiAnswers, putWorkflow, runToEnd } from './boundary-support.ts';

/**
 * Class 8 (no per-run budgets): every budget is counted in the run record and, once exceeded,
 * fails the run with a BUDGET.* code naming the budget, its limit and the setting that raises
 * it — even when the script catches the error it was given.
 */
describe('per-run budgets', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({
      env: {
        VEER_BUDGET_HOST_CALLS: '200',
        VEER_BUDGET_HOST_CALLS_IN_FLIGHT: '8',
        VEER_BUDGET_BYTES_RETURNED: '200000',
        VEER_BUDGET_EVENTS_EMITTED: '3',
        VEER_BUDGET_EVENT_RESULTS: '5',
      },
    });
    const shop = { port: 18082, routes: { v1: { weight: 100, targets: [{ host: '127.0.0.1', port: 9001 }] } } };
    assert.equal((await t.call('PUT', '/api/v1/gateways/shop', shop)).status, 201);
  });
  after(() => t.stop());

  async function run(name: string, script: string, extra: Record<string, unknown> = {}) {
    await putWorkflow(t, name, { script, ...extra });
    return runToEnd(t, name);
  }

  function assertBudgetFailure(r: any, code: string, setting: string) {
    assert.equal(r.status, 'failed', JSON.stringify(r));
    assert.equal(r.error.code, code, JSON.stringify(r.error));
    assert.match(r.error.message, /run budget exceeded/);
    assert.ok(r.error.message.includes(setting), `names the setting that raises it: ${r.error.message}`);
    assert.equal(r.budget?.exceeded, code, `the run record shows the budget: ${JSON.stringify(r.budget)}`);
  }

  it('counts host calls in the run record, and fails a run past its total even when it catches the error', async () => {
    const ok = await run('calls-ok', "export default async function (ctx) { for (let i = 0; i < 10; i++) await ctx.state.get('k'); return 'done'; }");
    assert.equal(ok.status, 'succeeded');
    assert.equal(ok.budget.hostCalls, 10);
    assert.equal(ok.budget.hostCallsInFlightPeak, 1);

    const over = await run(
      'calls-over',
      "export default async function (ctx) { for (let i = 0; i < 1000; i++) { try { await ctx.state.get('k'); } catch (e) { ctx.log.info('caught ' + e.code); } } return 'carried on'; }",
    );
    assertBudgetFailure(over, 'BUDGET.HOST_CALLS', 'VEER_BUDGET_HOST_CALLS');
    assert.match(over.error.message, /200 ctx calls per run/);
    assert.equal(over.budget.hostCalls, 200);
  });

  it('refuses a flood of un-awaited calls at the in-flight limit instead of queueing them', async () => {
    const r = await run(
      'flood',
      "export default async function (ctx) { const all = []; for (let i = 0; i < 100000; i++) all.push(ctx.state.get('k').catch(() => 0)); await Promise.all(all); return all.length; }",
    );
    assertBudgetFailure(r, 'BUDGET.HOST_CALLS_IN_FLIGHT', 'VEER_BUDGET_HOST_CALLS_IN_FLIGHT');
    assert.ok(r.budget.hostCallsInFlightPeak <= 8, JSON.stringify(r.budget));
    await assertApiAnswers(t);
  });

  it('refuses metrics windows over the ceiling with BUDGET.METRICS_WINDOW; the shipped 1m window works', async () => {
    const ok = await run(
      'window-ok',
      "export default async function (ctx) { const m = await ctx.metrics.gateway('shop', { window: '1m' }); return m.windowMs; }",
    );
    assert.equal(ok.status, 'succeeded', JSON.stringify(ok.error));
    assert.equal(ok.result, 60_000);
    const over = await run(
      'window-over',
      "export default async function (ctx) { try { await ctx.metrics.gateway('shop', { window: '1h' }); } catch {} return 'ignored'; }",
    );
    assertBudgetFailure(over, 'BUDGET.METRICS_WINDOW', 'VEER_BUDGET_METRICS_WINDOW_MS');
  });

  it('bounds events emitted per run (the one over the budget is not published)', async () => {
    const r = await run(
      'emitter',
      "export default async function (ctx) { for (let i = 0; i < 10; i++) { try { await ctx.events.emit({ tags: ['budget-test'], type: 'tick', value: i }); } catch {} } return 'done'; }",
    );
    assertBudgetFailure(r, 'BUDGET.EVENTS_EMITTED', 'VEER_BUDGET_EVENTS_EMITTED');
    assert.equal(r.budget.eventsEmitted, 3);
    const events = await t.call('GET', '/api/v1/events?tag=budget-test&limit=100');
    assert.equal(events.status, 200, JSON.stringify(events.body));
    assert.equal(events.body.events.length, 3);
  });

  it('bounds event query results per run', async () => {
    for (let i = 0; i < 4; i++) {
      const posted = await t.call('POST', '/api/v1/events', { tags: ['query-budget'], type: 'seed', value: i });
      assert.ok(posted.status < 300, JSON.stringify(posted.body));
    }
    const r = await run(
      'querier',
      "export default async function (ctx) { let n = 0; for (let i = 0; i < 5; i++) n += (await ctx.events.query({ tags: ['query-budget'], limit: 4 })).length; return n; }",
      { permissions: { events: ['query-budget'] } },
    );
    assertBudgetFailure(r, 'BUDGET.EVENT_RESULTS', 'VEER_BUDGET_EVENT_RESULTS');
  });

  it('bounds the bytes ctx calls return into the isolate', async () => {
    const r = await run(
      'reader',
      "export default async function (ctx) { await ctx.state.set('big', 'x'.repeat(60000)); for (let i = 0; i < 10; i++) await ctx.state.get('big'); return 'read'; }",
    );
    assertBudgetFailure(r, 'BUDGET.BYTES_RETURNED', 'VEER_BUDGET_BYTES_RETURNED');
    assert.ok(r.budget.bytesReturned <= 200_000, JSON.stringify(r.budget));
  });
});
