import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/**
 * The series route as `npm start` wires it (api/routers.ts): a whole Veer on a real Redis, the
 * gateway's own routes listed even when one saw no traffic, an unknown gateway a 404, and a bad
 * step a 400 naming it. The store's arithmetic is the contract suite's (metrics-store.contract.ts).
 */
describe('GET /api/v1/gateways/{name}/metrics/series on a real system', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ engine: false });
    const put = await t.call('PUT', '/api/v1/gateways/shop', {
      port: 19_650,
      routes: {
        stable: { weight: 100, targets: [{ host: '127.0.0.1', port: 19_651 }] },
        canary: { weight: 0, targets: [{ host: '127.0.0.1', port: 19_652 }] },
      },
    });
    assert.ok(put.status < 300, JSON.stringify(put.body));
    const now = Date.now();
    await t.system.metrics.record(
      Array.from({ length: 40 }, (_, i) => ({
        time: now - 20_000 + i * 250,
        gateway: 'shop',
        route: 'stable',
        server: 'stable-1',
        status: i % 10 === 0 ? 500 : 200,
        durationMs: 5,
        bytes: 100,
      })),
    );
  });
  after(() => t.stop());

  it("answers every route of the gateway (one without traffic as zero points) and the gateway's total", async () => {
    const res = await t.call('GET', '/api/v1/gateways/shop/metrics/series?window=5m&step=10s');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.stepMs, 10_000);
    const byRoute = Object.fromEntries(res.body.routes.map((r: { route: string; points: any[] }) => [r.route, r.points]));
    assert.deepEqual(Object.keys(byRoute).sort(), ['canary', 'stable']);
    const sum = (points: Array<{ requests: number; errors: number }>) => points.reduce((n, p) => [n[0]! + p.requests, n[1]! + p.errors], [0, 0]);
    assert.deepEqual(sum(byRoute.stable), [40, 4]);
    assert.deepEqual(sum(byRoute.canary), [0, 0]);
    assert.ok(
      byRoute.canary.every((p: { noData: boolean }) => p.noData),
      'no traffic: zero points marked noData, so a chart has a continuous axis',
    );
    assert.deepEqual(sum(res.body.total), [40, 4]);
    assert.equal(new Date(res.body.nextAt).getTime() % 10_000, 0, 'the next bucket closes on a step boundary: a UI polls once per step');
  });

  it('answers 404 for an unknown gateway and 400 naming the step for a step under a second', async () => {
    const missing = await t.call('GET', '/api/v1/gateways/nope/metrics/series?window=5m');
    assert.equal(missing.status, 404, JSON.stringify(missing.body));
    const bad = await t.call('GET', '/api/v1/gateways/shop/metrics/series?window=5m&step=500ms');
    assert.equal(bad.status, 400);
    assert.ok(
      bad.body.details.issues.some((i: { path: string }) => i.path === 'step'),
      JSON.stringify(bad.body),
    );
  });
});
