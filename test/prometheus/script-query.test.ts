import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/free-port.ts';
import { startMetricsTarget, type MetricsTarget } from '../helpers/metrics-target.ts';
import { startPrometheus, staticScrape, type TestPrometheus } from '../helpers/prometheus-server.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

/** A workflow whose script returns what `ctx.metrics.prometheus(<args>)` gave it. */
/** A ctx error the script does not catch fails the run as SCRIPT.ERROR; its own code ends the message. */
function assertFailedWith(run: any, code: string): void {
  assert.equal(run.status, 'failed', JSON.stringify(run));
  assert.equal(run.error.code, 'SCRIPT.ERROR', JSON.stringify(run.error));
  assert.ok(run.error.message.endsWith(`[${code}]`), run.error.message);
}

const querying = (args: string) => ({ script: `export default async function (ctx) { return await ctx.metrics.prometheus(${args}); }` });

describe('ctx.metrics.prometheus in a script, against a real Prometheus', () => {
  let redis: TestRedis;
  let app: MetricsTarget;
  let prom: TestPrometheus;
  let t: TestSystem;
  const wf = workflowCalls(() => t);
  before(async () => {
    redis = await startRedis();
    app = await startMetricsTarget();
    app.set('veer_test_total', 3, { path: '/a' });
    app.set('veer_test_total', 4, { path: '/b' });
    for (let i = 0; i < 150; i++) app.set('veer_many_total', i, { i: String(i) });
    prom = await startPrometheus({ scrapeConfigs: [staticScrape('app', [app.target])] });
    t = await startTestSystem({ redis, env: { VEER_PROMETHEUS_URL: prom.url } });
    // Prometheus finds its scrape targets a few seconds after it starts.
    await waitFor(
      async () => {
        const r = (await (await fetch(`${prom.url}/api/v1/query?query=sum(veer_test_total)`)).json()) as any;
        return r.data?.result?.[0]?.value?.[1] === '7';
      },
      { timeoutMs: 30_000, what: 'Prometheus to scrape veer_test_total' },
    );
  });
  after(async () => {
    await t?.stop();
    await prom?.stop();
    await app?.close();
    await redis?.stop();
  });

  it('an instant query answers the value, its series and the query as sent', async () => {
    await wf.put('sum-query', querying("'sum(veer_test_total)'"));
    const run = await wf.run('sum-query');
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    assert.deepEqual(run.result, { value: 7, series: [{ metric: {}, value: 7 }], samples: 1, noData: false, query: 'sum(veer_test_total)' });

    await wf.put('by-path', querying("'veer_test_total', { at: new Date().toISOString() }"));
    const byPath = await wf.run('by-path');
    assert.equal(byPath.status, 'succeeded', JSON.stringify(byPath.error));
    assert.equal(byPath.result.samples, 2);
    const values = Object.fromEntries(byPath.result.series.map((s: any) => [s.metric.path, s.value]));
    assert.deepEqual(values, { '/a': 3, '/b': 4 });
    assert.equal(byPath.result.series[0].metric.__name__, 'veer_test_total');
  });

  it('a range query answers [seconds, value] pairs and the last value', async () => {
    await wf.put('range-query', querying("'sum(veer_test_total)', { range: { window: '1m', step: '1s' } }"));
    const run = await wf.run('range-query');
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    const [series] = run.result.series;
    assert.equal(run.result.value, 7);
    assert.equal(run.result.noData, false);
    assert.ok(series.values.length >= 1, JSON.stringify(series));
    assert.equal(run.result.samples, series.values.length);
    assert.deepEqual(series.values.at(-1)[1], 7);
    assert.ok(series.values.every(([at]: [number]) => typeof at === 'number'));
  });

  it('an empty answer and NaN are noData, and the script carries on to decide', async () => {
    await wf.put('empty-query', {
      script: `export default async function (ctx) {
        const r = await ctx.metrics.prometheus('sum(veer_no_such_metric_total)');
        return { r, decision: r.noData ? 'wait' : r.value > 1 ? 'rollback' : 'promote' };
      }`,
    });
    const empty = await wf.run('empty-query');
    assert.equal(empty.status, 'succeeded', JSON.stringify(empty.error));
    assert.deepEqual(empty.result, {
      r: { value: null, series: [], samples: 0, noData: true, query: 'sum(veer_no_such_metric_total)' },
      decision: 'wait',
    });

    await wf.put('nan-query', querying("'0/0'"));
    const nan = await wf.run('nan-query');
    assert.equal(nan.status, 'succeeded', JSON.stringify(nan.error));
    assert.deepEqual(nan.result, { value: null, series: [{ metric: {}, value: null }], samples: 1, noData: true, query: '0/0' });
  });

  it('a query Prometheus rejects fails the run with PROMETHEUS.QUERY and its message; the script may catch it', async () => {
    await wf.put('bad-query', querying("'sum(veer_test_total'"));
    const run = await wf.run('bad-query');
    assertFailedWith(run, 'PROMETHEUS.QUERY');
    assert.match(run.error.message, /Prometheus rejected the query: .*unclosed left parenthesis/);

    await wf.put('caught-query', {
      script: "export default async function (ctx) { try { await ctx.metrics.prometheus('rate(veer_test_total)'); } catch (e) { return e.code; } }",
    });
    const caught = await wf.run('caught-query');
    assert.equal(caught.status, 'succeeded', JSON.stringify(caught.error));
    assert.equal(caught.result, 'PROMETHEUS.QUERY');
  });

  it('refuses a range of more than 11,000 points, naming options.range.step, before asking Prometheus', async () => {
    await wf.put('fine-range', querying("'up', { range: { window: '24h', step: '1s' } }"));
    const run = await wf.run('fine-range');
    assertFailedWith(run, 'VALIDATION');
    assert.match(run.error.message, /options\.range\.step: .*86401 points.*11000/);
  });

  it('hands the script at most 100 series and the newest 1100 samples of each; samples counts the whole answer', async () => {
    await wf.put('many-series', querying("'veer_many_total'"));
    const many = await wf.run('many-series');
    assert.equal(many.status, 'succeeded', JSON.stringify(many.error));
    assert.equal(many.result.series.length, 100);
    assert.equal(many.result.samples, 150);

    // vector(1) has a value at every step: 30 minutes every second is 1801 points.
    await wf.put('long-range', querying("'vector(1)', { range: { window: '30m', step: '1s' }, at: Date.now() }"));
    const long = await wf.run('long-range');
    assert.equal(long.status, 'succeeded', JSON.stringify(long.error));
    assert.equal(long.result.samples, 1801);
    const values = long.result.series[0].values;
    assert.equal(values.length, 1100);
    assert.equal(Math.round(values.at(-1)[0] - values[0][0]), 1099, 'the newest 1100, one second apart');
    assert.equal(long.result.value, 1);
  });

  it('without VEER_PROMETHEUS_URL the run fails PROMETHEUS.NOT_CONFIGURED', async () => {
    const bare = await startTestSystem({ redis });
    try {
      const calls = workflowCalls(() => bare);
      await calls.put('unconfigured', querying("'up'"));
      const run = await calls.run('unconfigured');
      assertFailedWith(run, 'PROMETHEUS.NOT_CONFIGURED');
      assert.match(run.error.message, /VEER_PROMETHEUS_URL/);
    } finally {
      await bare.stop();
    }
  });

  it('with a Prometheus URL that refuses connections the run fails PROMETHEUS.UNAVAILABLE', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const down = await startTestSystem({ redis, env: { VEER_PROMETHEUS_URL: url } });
    try {
      const calls = workflowCalls(() => down);
      await calls.put('unreachable', querying("'up'"));
      const run = await calls.run('unreachable');
      assertFailedWith(run, 'PROMETHEUS.UNAVAILABLE');
      assert.ok(run.error.message.includes(url), run.error.message);
    } finally {
      await down.stop();
    }
  });
});
