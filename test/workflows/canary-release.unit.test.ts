import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import canaryRelease from '../../workflows/canary-release.ts';
import { fakeGateway, fakeLog, fakeState, jsonCopy, type LoggedLine } from './fake-ctx.ts';
import type { Ctx, Deployment, EnvValue, Gateway, GatewayMetrics, SetWeightsOptions, Signal } from '../../workflows/types.ts';

/**
 * The canary-release script against a fake ctx: every decision of the spec (steps, pauses,
 * signals, relative and absolute checks, noData, failure limit, rollback evidence, release
 * ids, state shape and size) in milliseconds. The end-to-end test proves it on HAProxy.
 */

type RouteMetrics = Partial<Omit<GatewayMetrics, 'latency'>> & { p99?: number | null };

const healthy = (requests = 200, p99 = 10): RouteMetrics => ({ requests, errors: 0, errorRate: 0, p99, noData: false });
const failing = (errorRate: number, requests = 200): RouteMetrics => ({
  requests,
  errors: Math.round(errorRate * requests),
  errorRate,
  p99: 10,
  noData: false,
});
const slow = (p99: number, requests = 200): RouteMetrics => ({ requests, errors: 0, errorRate: 0, p99, noData: false });
const quiet = (requests = 3): RouteMetrics => ({ requests, errors: 0, errorRate: requests ? 0 : null, p99: requests ? 5 : null, noData: true });

interface FakeOptions {
  env?: Record<string, EnvValue>;
  weights?: Record<string, number>;
  deployment?: Partial<Deployment>;
  /** Refuse deployments.scale with this error code. */
  scaleError?: string;
}

function fakeWorld(o: FakeOptions = {}) {
  const state = new Map<string, unknown>();
  const events: Array<{ type: string; tags: string[]; value: any }> = [];
  const setWeights: Array<{ weights: Record<string, number>; options?: SetWeightsOptions }> = [];
  const scaled: Array<{ name: string; instances?: number }> = [];
  const logs: LoggedLine[] = [];
  const inbox: Signal[] = [];
  let signalSeq = 0;
  const routes: Record<string, { weight: number }> = {};
  for (const [name, weight] of Object.entries(o.weights ?? { stable: 100, canary: 0 })) routes[name] = { weight };
  let deployment: Deployment = {
    name: 'shop-v2',
    desiredInstances: 2,
    readyInstances: 2,
    image: 'shop:v2',
    labels: {},
    status: 'ready',
    endpoints: [],
    ...o.deployment,
  };
  const metrics: Record<string, RouteMetrics> = { canary: healthy(), stable: healthy() };
  const json = jsonCopy;
  const gateway = (): Gateway => fakeGateway(Object.fromEntries(Object.entries(routes).map(([n, r]) => [n, r.weight])));

  const ctx = (env: Record<string, EnvValue> = {}): Ctx =>
    ({
      input: null,
      env: { GATEWAY: 'shop', ...o.env, ...env },
      workflow: { name: 'shop-canary', version: 1 },
      run: { id: `run-${events.length}-${setWeights.length}`, attempt: 1, trigger: { type: 'manual' } },
      log: fakeLog(logs),
      sleep: async () => {},
      state: fakeState(state),
      gateways: {
        list: async () => [gateway()],
        get: async (name: string) => {
          assert.equal(name, 'shop');
          return gateway();
        },
        setWeights: async (name: string, weights: Record<string, number>, options?: SetWeightsOptions) => {
          assert.equal(name, 'shop');
          for (const [route, w] of Object.entries(weights)) {
            assert.ok(routes[route], `no route ${route}`);
            routes[route].weight = w;
          }
          const total = Object.values(routes).reduce((a, r) => a + r.weight, 0);
          assert.equal(total, 100, `weights add up to ${total}`);
          setWeights.push(options ? { weights, options } : { weights });
          return gateway();
        },
        update: async () => assert.fail('update is not used'),
      },
      deployments: {
        list: async () => [json(deployment)],
        get: async (name: string) => {
          assert.equal(name, deployment.name);
          return json(deployment);
        },
        scale: async (name: string, request: { instances?: number }) => {
          if (o.scaleError) throw Object.assign(new Error(`refused to scale ${name}`), { code: o.scaleError });
          scaled.push({ name, instances: request.instances });
          return json(deployment);
        },
        waitReady: async () => json(deployment),
      },
      events: {
        emit: async (e: { tags: string | string[]; type?: string; value?: unknown }) => {
          const ev = { type: e.type ?? 'event', tags: [e.tags].flat(), value: json(e.value) };
          events.push(ev);
          return { id: `ev-${events.length}`, timestamp: new Date().toISOString(), ...ev };
        },
        query: async () => [],
      },
      metrics: {
        gateway: async (name: string, q?: { route?: string; window?: string | number; minSamples?: number }) => {
          const m = metrics[q?.route ?? ''] ?? quiet(0);
          const requests = m.requests ?? 0;
          return {
            gateway: name,
            route: q?.route,
            windowMs: Number(q?.window),
            requests,
            rate: requests / 60,
            errors: m.errors ?? 0,
            errorRate: m.errorRate ?? null,
            latency: { avg: m.p99 ?? null, p50: m.p99 ?? null, p95: m.p99 ?? null, p99: m.p99 ?? null },
            samples: requests,
            noData: m.noData ?? requests < (q?.minSamples ?? 10),
          };
        },
      },
      signals: {
        take: async (name?: string) => {
          const i = inbox.findIndex((s) => name === undefined || s.name === name);
          return i < 0 ? undefined : inbox.splice(i, 1)[0];
        },
      },
    }) as unknown as Ctx;

  return {
    state,
    events,
    setWeights,
    scaled,
    logs,
    inbox,
    routes,
    metrics,
    run: (env?: Record<string, EnvValue>) => canaryRelease(ctx(env)) as Promise<any>,
    signal(name: string, value: unknown = null) {
      inbox.push({ id: `sig-${++signalSeq}`, name, value, sentAt: new Date().toISOString(), sentBy: 'ops' });
    },
    redeploy(patch: Partial<Deployment>) {
      deployment = { ...deployment, ...patch };
    },
    release: () => state.get('release') as any,
    history: () => state.get('history') as any[],
    canaryWeight: () => routes.canary.weight,
    types: () => events.map((e) => e.type),
  };
}

/** Runs until `done(result)` or `max` runs; returns every result. */
async function runUntil(w: ReturnType<typeof fakeWorld>, done: (r: any) => boolean, max = 20, env?: Record<string, EnvValue>) {
  const results: any[] = [];
  for (let i = 0; i < max; i++) {
    const r = await w.run(env);
    results.push(r);
    if (done(r)) return results;
  }
  assert.fail(`not done after ${max} runs: ${JSON.stringify(results.map((r) => [r.action, r.weight, r.phase]))}`);
}

describe('canary-release: steps and promotion', () => {
  it('starts a release, steps 5 → 25 → 50 → 100 on passing checks and promotes', async () => {
    const w = fakeWorld({ weights: { stable: 100, canary: 0 } });
    const results = await runUntil(w, (r) => r.phase === 'promoted');
    assert.deepEqual(
      results.map((r) => [r.action, r.weight, r.phase]),
      [
        ['step', 5, 'progressing'],
        ['step', 25, 'progressing'],
        ['step', 50, 'progressing'],
        ['promoted', 100, 'promoted'],
      ],
    );
    assert.equal(results[0].verdict.outcome, 'skipped', 'the first step, from 0, needs no check');
    assert.equal(results[1].verdict.outcome, 'pass');
    assert.deepEqual(
      w.setWeights.map((s) => s.weights),
      [5, 25, 50, 100].map((c) => ({ stable: 100 - c, canary: c })),
    );
    assert.deepEqual(w.types(), ['canary.started', 'canary.promoted']);
    assert.deepEqual(w.events[0].tags, ['canary', 'canary:shop']);
    assert.deepEqual(w.events[0].value.stableWeights, { stable: 100, canary: 0 });
    const rel = w.release();
    assert.equal(rel.phase, 'promoted');
    assert.equal(rel.id, 'default');
    assert.deepEqual(rel.stableWeights, { stable: 100, canary: 0 });
    for (const k of ['id', 'phase', 'stepIndex', 'weight', 'failures', 'noDataStreak', 'pausedSince', 'startedAt']) assert.ok(k in rel, `release.${k}`);
    assert.deepEqual(
      w.history().map((h) => [h.action, h.weight]),
      [
        ['step', 5],
        ['step', 25],
        ['step', 50],
        ['promoted', 100],
      ],
    );
    assert.ok(w.history()[1].verdict.checks.every((c: any) => 'value' in c && 'limit' in c && c.ok === true));
  });

  it('a finished release does nothing more, and takes signals without acting on them', async () => {
    const w = fakeWorld();
    await runUntil(w, (r) => r.phase === 'promoted');
    const weights = w.setWeights.length;
    w.signal('abort');
    const r = await w.run();
    assert.deepEqual([r.action, r.phase, r.weight], ['none', 'promoted', 100]);
    assert.equal(w.setWeights.length, weights);
    assert.equal(w.inbox.length, 0, 'a stale signal must not leak into the next release');
    assert.deepEqual(w.types(), ['canary.started', 'canary.promoted']);
  });

  it('holds at a manual pause on passing checks until a promote signal, then needs a passing check to step on', async () => {
    const w = fakeWorld({ env: { STEPS: '[5, 25, {"weight": 50, "pause": "manual"}, 100]' } });
    const results = await runUntil(w, (r) => r.weight === 50);
    assert.equal(results.at(-1).phase, 'paused');
    for (let i = 0; i < 3; i++) assert.deepEqual([(await w.run()).action, w.canaryWeight()], ['paused', 50]);
    assert.equal(w.history().at(-1).count, 3, 'repeated pauses are one history entry');

    w.metrics.canary = quiet();
    w.signal('promote');
    const held = await w.run();
    assert.deepEqual([held.action, held.phase, held.weight], ['hold', 'progressing', 50], 'the pause is over, but noData does not step');
    w.metrics.canary = healthy();
    const done = await w.run();
    assert.deepEqual([done.action, done.phase, done.weight], ['promoted', 'promoted', 100]);
  });

  it('ends a timed pause once its time is up', async () => {
    const w = fakeWorld({ env: { STEPS: '[10, {"pause": "5m"}, 100]' } });
    assert.equal((await w.run()).phase, 'paused');
    assert.equal((await w.run()).action, 'paused');
    const rel = w.release();
    assert.ok(rel.pausedSince);
    w.state.set('release', { ...rel, pausedSince: new Date(Date.now() - 6 * 60_000).toISOString() });
    const r = await w.run();
    assert.deepEqual([r.action, r.weight], ['promoted', 100]);
  });

  it('a pause before the first weight holds at 0 without judging', async () => {
    const w = fakeWorld({ env: { STEPS: '[{"pause": "manual"}, 10, 100]' } });
    const r = await w.run();
    assert.deepEqual([r.action, r.phase, r.weight, r.verdict.outcome], ['paused', 'paused', 0, 'skipped']);
    w.signal('promote');
    assert.deepEqual([(await w.run()).weight, w.canaryWeight()], [10, 10]);
  });

  it('promotes at the end of STEPS even when the last weight is below 100', async () => {
    const w = fakeWorld({ env: { STEPS: '[20, 50]' } });
    const results = await runUntil(w, (r) => r.phase === 'promoted');
    assert.deepEqual(
      results.map((r) => r.weight),
      [20, 50, 100],
    );
  });

  it('promote-full jumps to 100 and promotes; promote with no pause in force is ignored and said so', async () => {
    const w = fakeWorld();
    await w.run();
    w.signal('promote');
    const r = await w.run();
    assert.deepEqual([r.action, r.weight], ['step', 25]);
    assert.ok(w.logs.some((l) => l.level === 'warn' && /promote ignored/.test(l.message)));
    w.signal('promote-full');
    const full = await w.run();
    assert.deepEqual([full.action, full.phase, w.canaryWeight()], ['promoted', 'promoted', 100]);
    assert.match(w.events.at(-1)!.value.by, /promote-full/);
  });
});

describe('canary-release: analysis', () => {
  it('rolls back after FAILURE_LIMIT failed checks — counted in the release, not in a row', async () => {
    const w = fakeWorld({ env: { CANARY_DEPLOYMENT: 'shop-v2', CANARY_MIN_INSTANCES: 1 } });
    await w.run();
    w.metrics.canary = failing(0.03);
    const first = await w.run();
    assert.deepEqual([first.action, first.weight, first.failures], ['hold', 5, 1]);
    w.metrics.canary = healthy();
    assert.deepEqual([(await w.run()).action, w.canaryWeight()], ['step', 25]);
    w.metrics.canary = failing(0.03);
    const last = await w.run();
    assert.deepEqual([last.action, last.phase, last.weight], ['rolled_back', 'rolled_back', 0]);
    assert.deepEqual(w.routes, { stable: { weight: 100 }, canary: { weight: 0 } });
    const rb = w.setWeights.at(-1)!;
    assert.deepEqual(rb.weights, { stable: 100, canary: 0 });
    assert.match(rb.options?.rollback?.reason ?? '', /failed check/);
    assert.ok(rb.options?.rollback?.cause);
    assert.deepEqual(w.scaled, [{ name: 'shop-v2', instances: 1 }]);

    const ev = w.events.at(-1)!;
    assert.equal(ev.type, 'canary.rolled_back');
    assert.deepEqual(ev.tags, ['canary', 'canary:shop']);
    assert.equal(ev.value.cause, 'failed_checks');
    assert.equal(ev.value.failures, 2);
    assert.deepEqual(ev.value.step.weight, 25);
    assert.equal(ev.value.verdict.canary.errorRate, 0.03);
    assert.equal(ev.value.verdict.stable.errorRate, 0);
    assert.deepEqual(ev.value.thresholds, { maxErrorRateDelta: 0.01, maxP99Ratio: 1.5, p99ToleranceMs: 5, maxErrorRate: 0.05, maxP99Ms: 1000 });
    const failed = ev.value.verdict.checks.filter((c: any) => !c.ok).map((c: any) => c.check);
    assert.deepEqual(failed, ['errorRateDelta'], 'within the absolute cap, over stable by more than the delta');
    assert.equal(w.history().at(-1).action, 'rolled_back');
    assert.equal(w.history().filter((h) => h.verdict.outcome === 'fail').length, 2);
    assert.equal((await w.run()).action, 'none', 'rolled back stays rolled back');
  });

  it('fails a canary whose p99 is 3× stable while the absolute cap would pass it', async () => {
    const w = fakeWorld();
    await w.run();
    w.metrics.stable = slow(10);
    w.metrics.canary = slow(30);
    const r = await w.run();
    assert.equal(r.verdict.outcome, 'fail');
    const byName = Object.fromEntries(r.verdict.checks.map((c: any) => [c.check, c]));
    assert.equal(byName.p99.ok, true);
    assert.deepEqual([byName.p99VsStable.ok, byName.p99VsStable.value, byName.p99VsStable.limit], [false, 30, 15]);
  });

  it('does not call a millisecond difference "slower" (P99_TOLERANCE_MS)', async () => {
    const w = fakeWorld();
    await w.run();
    w.metrics.stable = slow(1);
    w.metrics.canary = slow(4);
    assert.equal((await w.run()).verdict.outcome, 'pass');
    w.metrics.canary = slow(7);
    assert.equal((await w.run({ P99_TOLERANCE_MS: 5 })).verdict.outcome, 'fail');
  });

  it('applies the absolute caps alone when stable has no data, and says so', async () => {
    const w = fakeWorld();
    await w.run();
    w.metrics.stable = quiet();
    w.metrics.canary = slow(900);
    const ok = await w.run();
    assert.equal(ok.verdict.outcome, 'pass');
    assert.deepEqual(
      ok.verdict.checks.map((c: any) => c.check),
      ['errorRate', 'p99'],
    );
    assert.match(ok.verdict.note, /stable has no data.*relative checks skipped/);
    w.metrics.canary = failing(0.06);
    assert.equal((await w.run()).verdict.outcome, 'fail');
  });

  it('holds on canary noData, then aborts after MAX_NO_DATA in a row', async () => {
    const w = fakeWorld({ env: { MAX_NO_DATA: 3 } });
    await w.run();
    w.metrics.canary = quiet();
    const results = await runUntil(w, (r) => r.action === 'rolled_back');
    assert.deepEqual(
      results.map((r) => r.action),
      ['hold', 'hold', 'rolled_back'],
    );
    assert.equal(w.events.at(-1)!.value.cause, 'no_data');
    assert.equal(w.canaryWeight(), 0);
  });

  it('a check with data resets the noData streak; ON_NO_DATA=hold keeps holding', async () => {
    const w = fakeWorld({ env: { MAX_NO_DATA: 2, STEPS: '[5, {"pause": "manual"}, 100]' } });
    await w.run();
    w.metrics.canary = quiet();
    assert.equal((await w.run()).action, 'hold');
    w.metrics.canary = healthy();
    assert.equal((await w.run()).action, 'paused');
    w.metrics.canary = quiet();
    assert.equal((await w.run()).action, 'hold');
    for (let i = 0; i < 5; i++) assert.equal((await w.run({ ON_NO_DATA: 'hold' })).action, 'hold');
    assert.equal(w.release().noDataStreak, 6);
    assert.equal((await w.run()).action, 'rolled_back');
  });
});

describe('canary-release: signals and rollback', () => {
  it('abort rolls back at once, before any other signal, with the signal in the evidence', async () => {
    const w = fakeWorld();
    await w.run();
    w.signal('promote-full');
    w.signal('abort');
    const r = await w.run();
    assert.deepEqual([r.action, r.phase], ['rolled_back', 'rolled_back']);
    assert.equal(w.inbox.length, 0, 'every pending signal was taken');
    const ev = w.events.at(-1)!;
    assert.equal(ev.value.cause, 'abort');
    assert.deepEqual(ev.value.signal, { id: 'sig-2', sentBy: 'ops' });
    assert.equal(ev.value.verdict.outcome, 'pass', 'the evidence has both routes even when the canary was healthy');
    assert.equal(w.setWeights.at(-1)!.options?.rollback?.cause, 'sig-2');
  });

  it('logs a refused scale-down and still records the rollback', async () => {
    const w = fakeWorld({ env: { CANARY_DEPLOYMENT: 'shop-v2' }, scaleError: 'PERMISSION' });
    await w.run();
    w.signal('abort');
    const r = await w.run();
    assert.equal(r.phase, 'rolled_back');
    assert.match(w.events.at(-1)!.value.canaryScale.error, /^PERMISSION: /);
    assert.ok(w.logs.some((l) => l.level === 'warn' && /could not scale shop-v2/.test(l.message)));
    assert.equal(w.release().phase, 'rolled_back');
  });

  it('warns about unknown signals and carries on', async () => {
    const w = fakeWorld();
    await w.run();
    w.signal('promte');
    assert.equal((await w.run()).action, 'step');
    assert.ok(w.logs.some((l) => l.level === 'warn' && /unknown signals/.test(l.message) && JSON.stringify(l.fields).includes('promte')));
  });

  it('stops when the canary was taken out by someone else (a rollback hook) instead of stepping back in', async () => {
    const w = fakeWorld();
    await w.run();
    w.routes.stable.weight = 100;
    w.routes.canary.weight = 0;
    const weights = w.setWeights.length;
    const r = await w.run();
    assert.deepEqual([r.action, r.phase], ['rolled_back', 'rolled_back']);
    assert.equal(w.setWeights.length, weights, 'no weight change');
    assert.equal(w.events.at(-1)!.value.cause, 'external');
  });
});

describe('canary-release: releases', () => {
  it('a new RELEASE starts a new release from the current weights, with a fresh history', async () => {
    const w = fakeWorld({ env: { RELEASE: 'v2' } });
    await runUntil(w, (r) => r.phase === 'promoted');
    w.routes.stable.weight = 100;
    w.routes.canary.weight = 0;
    const r = await w.run({ RELEASE: 'v3' });
    assert.deepEqual([r.action, r.release, r.weight], ['step', 'v3', 5]);
    assert.equal(w.events.filter((e) => e.type === 'canary.started').length, 2);
    assert.deepEqual(w.events.filter((e) => e.type === 'canary.started')[1].value.release, 'v3');
    assert.equal(w.history().length, 1);
  });

  it("the canary deployment's identity (image, labels) is the release id", async () => {
    const w = fakeWorld({ env: { CANARY_DEPLOYMENT: 'shop-v2' }, deployment: { image: 'shop:v2', labels: { track: 'canary' } } });
    await w.run();
    assert.equal(w.release().id, 'shop:v2 {track=canary}');
    w.signal('abort');
    await w.run();
    assert.equal((await w.run()).action, 'none');
    w.redeploy({ image: 'shop:v3' });
    const r = await w.run();
    assert.deepEqual([r.action, r.release], ['step', 'shop:v3 {track=canary}']);
  });

  it('keeps the history capped and under the 64 KiB state value limit', async () => {
    const w = fakeWorld({ env: { FAILURE_LIMIT: 1000, STEPS: '[1, 100]' } });
    await w.run();
    for (let i = 0; i < 150; i++) {
      w.metrics.canary = failing(0.02 + i / 10_000);
      assert.equal((await w.run()).action, 'hold');
    }
    const history = w.history();
    assert.ok(history.length <= 100 && history.length >= 50, `${history.length} entries`);
    assert.ok(JSON.stringify(history).length <= 64 * 1024);
    assert.equal(history.at(-1).verdict.canary.errorRate, 0.0349);
  });
});

describe('canary-release: configuration errors name the variable', () => {
  const cases: Array<[Record<string, EnvValue>, RegExp]> = [
    [{ STEPS: '[5, 25' }, /^STEPS: not JSON/],
    [{ STEPS: '[]' }, /^STEPS: must be a non-empty JSON array/],
    [{ STEPS: '{"pause": "manual"}' }, /^STEPS: must be a non-empty JSON array/],
    [{ STEPS: '[5, 150]' }, /^STEPS\[1\]: a weight must be a whole percent from 1 to 100, got 150/],
    [{ STEPS: '[5, 2.5]' }, /^STEPS\[1\]: a weight must be a whole percent/],
    [{ STEPS: '[50, 25]' }, /^STEPS\[1\]: weights must increase: 25 after 50/],
    [{ STEPS: '[5, {"pause": "5 minutes"}]' }, /^STEPS\[1\]: a pause is "manual" or a duration like/],
    [{ STEPS: '[5, {"wait": "5m"}]' }, /^STEPS\[1\]: unknown field "wait"/],
    [{ STEPS: '[5, {}]' }, /^STEPS\[1\]: an object step needs "weight" or "pause"/],
    [{ STEPS: '[5, "25"]' }, /^STEPS\[1\]: must be a weight or an object/],
    [{ GATEWAY: null }, /^GATEWAY: required/],
    [{ MAX_P99_RATIO: 'fast' }, /^MAX_P99_RATIO: must be a number ≥ 0, got "fast"/],
    [{ FAILURE_LIMIT: 0 }, /^FAILURE_LIMIT: must be a whole number ≥ 1/],
    [{ MAX_ERROR_RATE_DELTA: 2 }, /^MAX_ERROR_RATE_DELTA: must be a number between 0 and 1/],
    [{ ON_NO_DATA: 'pause' }, /^ON_NO_DATA: must be "abort" or "hold"/],
    [{ WINDOW: '10 seconds' }, /^WINDOW: must be a duration/],
    [{ CANARY_ROUTE: 'stable' }, /^CANARY_ROUTE: must differ from STABLE_ROUTE/],
    [{ CANARY_ROUTE: 'green' }, /^CANARY_ROUTE: gateway 'shop' has no route 'green' \(routes: stable, canary\)/],
  ];
  for (const [env, message] of cases) {
    it(`${JSON.stringify(env)} → ${message.source}`, async () => {
      const w = fakeWorld();
      await assert.rejects(w.run(env), { message });
      assert.equal(w.setWeights.length + w.events.length, 0, 'nothing done');
    });
  }

  it('accepts numbers given as strings, and the {weight, pause} shorthand', async () => {
    const w = fakeWorld({ env: { MIN_SAMPLES: '5', STEPS: '[{"weight": 30, "pause": "manual"}, 100]' } });
    const r = await w.run();
    assert.deepEqual([r.weight, r.phase], [30, 'paused']);
    assert.deepEqual(w.events[0].value.steps, [{ weight: 30 }, { pause: 'manual', ms: null }, { weight: 100 }]);
  });
});
