import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import canaryRelease from '../../workflows/canary-release.ts';
import { codedError, fakeGateway, fakeLog, fakePrometheus, fakeState, jsonCopy, type LoggedLine, type PrometheusCall } from './fake-ctx.ts';
import type { Ctx, EnvValue, Gateway } from '../../workflows/types.ts';

/**
 * The canary-release script with ANALYSIS=prometheus against a fake ctx whose
 * `metrics.prometheus` answers per route and query kind: the same decisions as the built-in
 * analysis (promote, hold on noData, roll back on a worse error rate), the PromQL it sends,
 * and a Prometheus that fails (hold, logged, never a promotion).
 */

/** What Prometheus answers for a route: a number, null (empty/NaN: noData) or an error thrown. */
type Answer = number | null | Error;
interface RouteAnswers {
  errorRate: Answer;
  latency: Answer;
  requests: Answer;
}

const healthy = (): RouteAnswers => ({ errorRate: 0, latency: 12, requests: 500 });

function fakeWorld(env: Record<string, EnvValue> = {}) {
  const state = new Map<string, unknown>();
  const events: Array<{ type: string; value: any }> = [];
  const logs: LoggedLine[] = [];
  const calls: PrometheusCall[] = [];
  const routes: Record<string, { weight: number }> = { stable: { weight: 100 }, canary: { weight: 0 } };
  const answers: Record<string, RouteAnswers> = { canary: healthy(), stable: healthy() };
  const gateway = (): Gateway => fakeGateway(Object.fromEntries(Object.entries(routes).map(([n, r]) => [n, r.weight])));
  // The route is read back from the proxy label (or a custom query's route label); the kind from the metric.
  const answer = (query: string): Answer => {
    const route = /r\.shop\.(\w+)"|route="(\w+)"/.exec(query);
    const a = answers[route?.[1] ?? route?.[2] ?? ''];
    assert.ok(a, `no route in query ${query}`);
    if (query.includes('response_time') || query.includes('latency')) return a.latency;
    if (query.startsWith('sum(increase(')) return a.requests;
    return a.errorRate;
  };
  const ctx = (): Ctx =>
    ({
      input: null,
      env: { GATEWAY: 'shop', ANALYSIS: 'prometheus', ...env },
      workflow: { name: 'shop-canary', version: 1 },
      run: { id: `run-${calls.length}`, attempt: 1, trigger: { type: 'manual' } },
      log: fakeLog(logs),
      sleep: async () => {},
      state: fakeState(state),
      gateways: {
        get: async () => gateway(),
        setWeights: async (_name: string, weights: Record<string, number>) => {
          for (const [route, w] of Object.entries(weights)) routes[route].weight = w;
          return gateway();
        },
      },
      events: {
        emit: async (e: { type: string; value: unknown }) => {
          events.push({ type: e.type, value: jsonCopy(e.value) });
          return { id: `ev-${events.length}` };
        },
      },
      metrics: {
        gateway: async () => assert.fail('ANALYSIS=prometheus must not read the built-in metrics'),
        prometheus: fakePrometheus(answer, calls),
      },
      signals: { take: async () => undefined },
    }) as unknown as Ctx;
  return {
    answers,
    calls,
    logs,
    events,
    run: () => canaryRelease(ctx()) as Promise<any>,
    canaryWeight: () => routes.canary.weight,
  };
}

describe('canary-release with ANALYSIS=prometheus', () => {
  it('promotes on healthy numbers, step by step, with checks between steps', async () => {
    const w = fakeWorld();
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await w.run());
    assert.deepEqual(
      results.map((r) => [r.action, r.weight, r.verdict.outcome]),
      [
        ['step', 5, 'skipped'],
        ['step', 25, 'pass'],
        ['step', 50, 'pass'],
        ['promoted', 100, 'pass'],
      ],
    );
    assert.deepEqual(
      results[1].verdict.checks.map((c: any) => [c.check, c.ok]),
      [
        ['errorRate', true],
        ['latency', true],
        ['errorRateDelta', true],
        ['latencyVsStable', true],
      ],
    );
    assert.deepEqual(results[1].verdict.canary, { requests: 500, errorRate: 0, latency: 12, noData: false });
    assert.deepEqual(
      w.events.map((e) => e.type),
      ['canary.started', 'canary.promoted'],
    );
  });

  it('sends the default HAProxy queries with gateway, route and window filled in', async () => {
    const w = fakeWorld({ WINDOW: '30s' });
    await w.run(); // 0 → 5, no check
    assert.equal(w.calls.length, 0);
    await w.run();
    const sent = w.calls.map((c) => c.query).sort();
    const proxy = (route: string) => `proxy="r.shop.${route}"`;
    const expected = ['canary', 'stable'].flatMap((route) => [
      `sum(rate(haproxy_backend_http_responses_total{${proxy(route)},code="5xx"}[30s])) / sum(rate(haproxy_backend_http_responses_total{${proxy(route)}}[30s]))`,
      `max(haproxy_backend_response_time_average_seconds{${proxy(route)}}) * 1000`,
      `sum(increase(haproxy_backend_http_responses_total{${proxy(route)}}[30s]))`,
    ]);
    assert.deepEqual(sent, expected.sort());
    assert.ok(
      w.calls.every((c) => c.options === undefined),
      'instant queries',
    );
  });

  it('fills in custom queries and skips the request count with PROM_REQUESTS_QUERY=none', async () => {
    const w = fakeWorld({
      PROM_ERROR_RATE_QUERY: 'errors:ratio{gateway="$gateway",route="$route",window="$window"}',
      PROM_LATENCY_QUERY: 'latency:ms{gateway="$gateway",route="$route"}',
      PROM_REQUESTS_QUERY: 'none',
    });
    await w.run();
    const r = await w.run();
    assert.equal(r.verdict.outcome, 'pass');
    assert.deepEqual(w.calls.map((c) => c.query).sort(), [
      'errors:ratio{gateway="shop",route="canary",window="1m"}',
      'errors:ratio{gateway="shop",route="stable",window="1m"}',
      'latency:ms{gateway="shop",route="canary"}',
      'latency:ms{gateway="shop",route="stable"}',
    ]);
  });

  it('rolls back when the canary 5xx ratio exceeds the stable one by more than MAX_ERROR_RATE_DELTA, after FAILURE_LIMIT checks', async () => {
    const w = fakeWorld();
    await w.run();
    // 3 % is under the absolute cap (5 %) but 3 points worse than stable's 0 %.
    w.answers.canary.errorRate = 0.03;
    const first = await w.run();
    assert.equal(first.action, 'hold');
    assert.equal(first.verdict.outcome, 'fail');
    assert.deepEqual(
      first.verdict.checks.filter((c: any) => !c.ok).map((c: any) => [c.check, c.value]),
      [['errorRateDelta', 0.03]],
    );
    assert.equal(w.canaryWeight(), 5, 'a failed check holds the weight');
    const second = await w.run();
    assert.equal(second.action, 'rolled_back');
    assert.equal(w.canaryWeight(), 0);
    const rolled = w.events.find((e) => e.type === 'canary.rolled_back')!;
    assert.equal(rolled.value.cause, 'failed_checks');
    assert.equal(rolled.value.analysis, 'prometheus');
    assert.match(rolled.value.queries.canary.errorRate, /proxy="r\.shop\.canary",code="5xx"/);
  });

  it('the same canary ratio passes when stable fails as much (relative check)', async () => {
    const w = fakeWorld();
    await w.run();
    w.answers.canary.errorRate = 0.03;
    w.answers.stable.errorRate = 0.025;
    const r = await w.run();
    assert.equal(r.verdict.outcome, 'pass');
    assert.equal(r.action, 'step');
  });

  it('holds on noData (no traffic: NaN, or fewer requests than MIN_SAMPLES) and keeps holding with ON_NO_DATA=hold', async () => {
    const w = fakeWorld({ ON_NO_DATA: 'hold', MAX_NO_DATA: 2 });
    await w.run();
    w.answers.canary = { errorRate: null, latency: 0, requests: 0 };
    for (let i = 0; i < 3; i++) {
      const r = await w.run();
      assert.equal(r.action, 'hold');
      assert.equal(r.verdict.outcome, 'noData');
      assert.match(r.verdict.note, /^canary: no error rate/);
    }
    w.answers.canary = { errorRate: 0, latency: 10, requests: 7 };
    const few = await w.run();
    assert.equal(few.action, 'hold');
    assert.match(few.verdict.note, /7 requests, fewer than MIN_SAMPLES 20/);
    assert.equal(w.canaryWeight(), 5);
  });

  it('holds on PROMETHEUS.UNAVAILABLE, logs it, never promotes, and rolls back after MAX_NO_DATA with ON_NO_DATA=abort', async () => {
    const w = fakeWorld({ MAX_NO_DATA: 3 });
    await w.run();
    const down = codedError('PROMETHEUS.UNAVAILABLE', 'Prometheus at http://127.0.0.1:9 is unreachable (ECONNREFUSED)');
    w.answers.canary = { errorRate: down, latency: down, requests: down };
    const held = [await w.run(), await w.run()];
    for (const r of held) {
      assert.equal(r.action, 'hold');
      assert.equal(r.verdict.outcome, 'noData');
      assert.match(r.verdict.note, /Prometheus query failed \(PROMETHEUS\.UNAVAILABLE/);
    }
    assert.equal(w.canaryWeight(), 5);
    const logged = w.logs.filter((l) => l.fields?.code === 'PROMETHEUS.UNAVAILABLE');
    assert.ok(logged.length > 0, JSON.stringify(w.logs));
    assert.match(String(logged[0].fields?.query), /r\.shop\.canary/);
    const third = await w.run();
    assert.equal(third.action, 'rolled_back');
    assert.equal(w.events.find((e) => e.type === 'canary.rolled_back')!.value.cause, 'no_data');
  });

  it('holds when only the stable route’s query fails (PROMETHEUS.QUERY), though the canary looks fine', async () => {
    const w = fakeWorld();
    await w.run();
    w.answers.stable.latency = codedError('PROMETHEUS.QUERY', 'parse error: unexpected character');
    const r = await w.run();
    assert.equal(r.action, 'hold');
    assert.equal(r.verdict.outcome, 'noData');
    assert.match(r.verdict.note, /^stable: Prometheus query failed \(PROMETHEUS\.QUERY/);
    assert.ok(w.logs.some((l) => l.level === 'error' && l.fields?.code === 'PROMETHEUS.QUERY'));
    assert.equal(w.canaryWeight(), 5);
  });

  it('fails the run when Prometheus is not configured, and refuses an unknown ANALYSIS', async () => {
    const w = fakeWorld();
    await w.run();
    w.answers.canary.errorRate = codedError('PROMETHEUS.NOT_CONFIGURED', 'set VEER_PROMETHEUS_URL');
    await assert.rejects(w.run(), /VEER_PROMETHEUS_URL/);
    await assert.rejects(fakeWorld({ ANALYSIS: 'graphite' }).run(), /ANALYSIS: must be "builtin" or "prometheus"/);
  });
});
