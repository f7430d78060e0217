import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort } from '../helpers/free-port.ts';
import { runLoad } from '../helpers/load.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startHttpBackend, type HttpBackend } from '../helpers/http-backends.ts';
import { cleanup, startE2eAgent, waitLive, type E2eAgent } from './support.ts';

/**
 * HAProxy request log → agent (UDP) → metrics sink → Redis metrics store → ctx.metrics in a
 * sandboxed run on the engine, and the metrics API: the numbers are those of the traffic sent.
 */
test('gateway metrics from real HAProxy traffic reach ctx.metrics.gateway and the metrics API', async () => {
  let t: TestSystem | undefined;
  let agent: E2eAgent | undefined;
  const backends: HttpBackend[] = [];
  try {
    t = await startTestSystem({ engine: true });
    // good: always 200; bad: every other request is a 500 (the 1st, 3rd, …).
    const good = await startHttpBackend('good', () => 200);
    backends.push(good);
    const bad = await startHttpBackend('bad', (n) => (n % 2 === 0 ? 500 : 200));
    backends.push(bad);
    agent = await startE2eAgent(t);

    const port = await freePort();
    const put = await t.call('PUT', '/api/v1/gateways/shop', {
      port,
      routes: {
        good: { weight: 50, targets: [{ host: '127.0.0.1', port: good.port }] },
        bad: { weight: 50, targets: [{ host: '127.0.0.1', port: bad.port }] },
      },
    });
    assert.ok(put.status === 200 || put.status === 201, JSON.stringify(put.body));
    await waitLive(t, 'shop');

    const N = 200;
    const load = await runLoad({ url: `http://127.0.0.1:${port}/`, requests: N, concurrency: 4 });
    assert.equal(load.requests, N);
    assert.equal(good.hits + bad.hits, N, 'every request reached a backend');
    assert.ok(good.hits > 0 && bad.hits > 0, `both routes got traffic (good ${good.hits}, bad ${bad.hits})`);
    const badErrors = Math.ceil(bad.hits / 2);
    assert.equal(load.statuses[500] ?? 0, badErrors);
    assert.equal(load.statuses[200] ?? 0, N - badErrors);

    // Log lines travel over UDP and are written in batches: wait for all of them.
    const metrics = async (route: string) => (await t!.call('GET', `/api/v1/gateways/shop/metrics?window=1m&route=${route}`)).body;
    await waitFor(async () => (await metrics('bad')).requests === bad.hits && (await metrics('good')).requests === good.hits, {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'every request in the metrics store',
    });

    const api = await metrics('bad');
    assert.equal(api.errors, badErrors);
    assert.equal(api.errorRate, badErrors / bad.hits);
    assert.equal(api.noData, false);

    const wf = await t.call('PUT', '/api/v1/workflows/x', {
      script: `export default async function (ctx) {
        const bad = await ctx.metrics.gateway('shop', { route: 'bad', window: '1m' });
        const good = await ctx.metrics.gateway('shop', { route: 'good', window: '1m' });
        const all = await ctx.metrics.gateway('shop', { window: '1m' });
        return { bad, good, all };
      }`,
    });
    assert.ok(wf.status === 200 || wf.status === 201, JSON.stringify(wf.body));
    const run = await t.call('POST', '/api/v1/workflows/x/runs?wait=true', {});
    assert.equal(run.status, 201, JSON.stringify(run.body));
    assert.equal(run.body.status, 'succeeded', JSON.stringify(run.body.error));
    const { bad: m, good: g, all } = run.body.result;

    assert.equal(m.noData, false);
    assert.equal(m.requests, bad.hits);
    assert.equal(m.errors, badErrors);
    assert.equal(m.errorRate, badErrors / bad.hits);
    assert.ok(m.errorRate > 0.45 && m.errorRate <= 0.55, `bad route error rate ≈ 0.5, got ${m.errorRate}`);
    assert.equal(g.requests, good.hits);
    assert.equal(g.errors, 0);
    assert.equal(g.errorRate, 0);
    assert.equal(all.requests, N);
    assert.equal(all.errors, badErrors);
    assert.ok(m.latency.p99 !== null && m.latency.p99 >= 0, 'latency percentiles are reported');

    // The API and the script read the same store: same numbers.
    for (const k of ['requests', 'errors', 'errorRate', 'noData'] as const) assert.equal(api[k], m[k], `API and ctx.metrics agree on ${k}`);
  } finally {
    await cleanup([agent?.stop, ...backends.map((b) => b.close), t?.stop]);
  }
});
