import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { GatewayMetrics, GatewayMetricsSeries, GatewayMetricsStore, GatewayRequestSample } from '../../engine/ports/metrics-store.ts';
import { createRedisMetricsStore } from '../../adapters/metrics/redis.ts';
import { createMetricsSink } from '../../adapters/metrics/sink.ts';
import { parseLogLine } from '../../adapters/gateway-agent/log-line.ts';
import { createApp } from '../../api/app.ts';
import { createMetricsRoutes } from '../../api/routes/metrics.ts';
import { createMetricsCapability } from '../../engine/events/metrics-capability.ts';
import type { RunScope } from '../../engine/sandbox/capabilities.ts';
import { NotFoundError } from '../../engine/shared/errors.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { NOW, traffic } from '../contract/metrics-store.contract.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const scope = (logs: string[] = []): RunScope => ({
  runId: 'r1',
  attempt: 1,
  workflow: { name: 'canary', version: 1, permissions: { gateways: [], deployments: {} } },
  log: (_l, m) => logs.push(m),
  signal: new AbortController().signal,
  deadline: Date.now() + 60_000,
});

describe('metrics: API, ctx.metrics and the agent sink', () => {
  let server: TestRedis;
  let redis: Redis;
  let store: GatewayMetricsStore;

  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    store = createRedisMetricsStore({ redis, prefix: `t-${randomUUID().slice(0, 8)}`, now: () => NOW });
    await store.record([
      ...traffic(
        'shop',
        'v1',
        100,
        () => 200,
        () => 20,
      ),
      ...traffic(
        'shop',
        'v2',
        100,
        (i) => (i < 30 ? 500 : 200),
        () => 200,
      ),
    ]);
  });
  after(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('GET /gateways/{name}/metrics serves the numbers for a route and a window', async () => {
    const app = createApp({ logger: silentLogger(), tokens: [], routers: [createMetricsRoutes({ metrics: store })] });
    const res = await app.request('/api/v1/gateways/shop/metrics?route=v2&window=1m');
    assert.equal(res.status, 200);
    const m = (await res.json()) as GatewayMetrics;
    assert.deepEqual([m.requests, m.errors, m.errorRate, m.noData, m.route, m.windowMs], [100, 30, 0.3, false, 'v2', 60_000]);
    const quiet = (await (await app.request('/api/v1/gateways/nothing/metrics')).json()) as GatewayMetrics;
    assert.equal(quiet.noData, true);
    assert.equal((await app.request('/api/v1/gateways/shop/metrics?window=soon')).status, 400);
  });

  it('GET /gateways/{name}/metrics/series: one series per route of the gateway, 400 naming the field, 404 for an unknown gateway', async () => {
    const gateways = {
      async get(name: string) {
        if (name !== 'shop') throw new NotFoundError('gateway', name);
        return { routes: { v1: {}, v2: {} } };
      },
    };
    const app = createApp({ logger: silentLogger(), tokens: [], routers: [createMetricsRoutes({ metrics: store, gateways })] });
    const res = await app.request('/api/v1/gateways/shop/metrics/series?window=5m&step=30s');
    assert.equal(res.status, 200);
    const s = (await res.json()) as GatewayMetricsSeries;
    assert.deepEqual([s.stepMs, s.total?.length, s.routes.map((r) => r.route)], [30_000, 10, ['v1', 'v2']]);
    assert.equal(s.nextAt - s.total!.at(-1)!.t, 30_000);
    assert.equal(
      s.routes[1].points.reduce((a, p) => a + p.errors, 0),
      30,
    );
    const one = (await (await app.request('/api/v1/gateways/shop/metrics/series?window=5m&route=v2')).json()) as GatewayMetricsSeries;
    assert.deepEqual([one.total, one.routes.length, one.stepMs], [undefined, 1, 3000]);
    for (const [q, field] of [
      ['window=5m&step=500ms', 'step'],
      ['window=5m&step=10m', 'step'],
      ['window=60m&step=1s', 'step'],
      ['window=soon', 'window'],
    ]) {
      const bad = await app.request(`/api/v1/gateways/shop/metrics/series?${q}`);
      assert.equal(bad.status, 400, q);
      assert.match(JSON.stringify(await bad.json()), new RegExp(field), q);
    }
    assert.equal((await app.request('/api/v1/gateways/nope/metrics/series')).status, 404);
  });

  it('ctx.metrics.gateway(name, { route, window }) returns the same numbers; noData is explicit', async () => {
    const cap = createMetricsCapability(store);
    const m = (await cap.gateway(scope(), 'shop', { route: 'v2', window: '1m' })) as GatewayMetrics;
    assert.deepEqual([m.requests, m.errorRate], [100, 0.3]);
    const logs: string[] = [];
    const none = (await cap.gateway(scope(logs), 'shop', { route: 'v3', window: '30s' })) as GatewayMetrics;
    assert.equal(none.noData, true);
    assert.match(logs[0], /no data/);
    await assert.rejects(cap.gateway(scope(), 'shop', { window: 'forever' }), { code: 'VALIDATION' });
  });

  it('the sink batches into the store and never blocks the agent; overflow is dropped and counted', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const recorded: GatewayRequestSample[] = [];
    const slow: GatewayMetricsStore = {
      kind: 'slow',
      async record(samples) {
        await gate;
        recorded.push(...samples);
        return { accepted: samples.length, rejected: 0 };
      },
      query: store.query,
      series: store.series,
      close: async () => {},
    };
    const sink = createMetricsSink<GatewayRequestSample>(slow, { toSample: (s) => s, maxBatch: 10, maxQueue: 25, flushMs: 10 });
    const batch = traffic(
      'agent',
      'r',
      10,
      () => 200,
      () => 5,
    );
    for (let i = 0; i < 5; i++) assert.equal(sink(batch), undefined, 'returns at once while the store hangs');
    await waitFor(() => sink.stats().dropped > 0, { what: 'drops under backpressure' });
    release();
    await sink.close();
    const st = sink.stats();
    assert.equal(st.accepted + st.dropped, 50);
    assert.equal(recorded.length, st.accepted);
    assert.equal(st.written, st.accepted);
  });

  it("the default sink takes the gateway agent's parsed HAProxy lines", async () => {
    const line = (st: number, Tt: number) =>
      `<134>haproxy[1]: {"ts":${NOW - 1000},"ci":"127.0.0.1","cp":5000,"ft":"g.logs","b":"w.logs","s":"v2","is":"127.0.0.1:9001","m":"GET","u":"/","st":${st},"Tq":0,"Tw":0,"Tc":1,"Tr":${Tt - 1},"Tt":${Tt},"B":10,"U":20,"term":"----","rc":0}`;
    const records = [line(200, 10), line(503, 30), line(200, 20)].map((l) => parseLogLine(l)!);
    const sink = createMetricsSink(store);
    sink(records);
    await sink.close();
    const m = (await store.query('logs', { route: 'v2', windowMs: 10_000, minSamples: 1 })) as GatewayMetrics;
    assert.deepEqual([m.requests, m.errors, m.latency.avg], [3, 1, 20]);
  });
});
