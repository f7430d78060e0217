import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import cronAutoscaler from '../../workflows/cron-autoscaler.ts';
import { fakeLog, fakeState, type LoggedLine } from './fake-ctx.ts';
import type { Ctx, Deployment, EnvValue, GatewayMetricsOptions } from '../../workflows/types.ts';

/**
 * The cron-autoscaler script against a fake ctx: the HPA rule, tolerance, bounds, metrics,
 * instances still starting, the scale-down window, cooldown, noData and the state it keeps,
 * in milliseconds. Time passes by ageing what the script stored (every time it keeps is in
 * state), so no clock is mocked. test/e2e/autoscaler.test.ts proves it on HAProxy.
 */

interface Traffic {
  /** Requests per second over the window. */
  rate: number;
  p99?: number | null;
  noData?: boolean;
}

function fakeWorld(o: { env?: Record<string, EnvValue>; instances?: number; ready?: number; scaleError?: string } = {}) {
  const state = new Map<string, unknown>();
  const scaled: number[] = [];
  const logs: LoggedLine[] = [];
  const reads: GatewayMetricsOptions[] = [];
  const dep = { desired: o.instances ?? 2, ready: o.ready ?? o.instances ?? 2 };
  let traffic: Traffic = { rate: 0, noData: true };
  const deployment = (): Deployment => ({
    name: 'shop-v1',
    desiredInstances: dep.desired,
    readyInstances: dep.ready,
    labels: {},
    status: dep.desired === dep.ready ? 'ready' : 'progressing',
    endpoints: [],
  });
  const ctx = (env: Record<string, EnvValue>): Ctx =>
    ({
      input: null,
      env: { DEPLOYMENT: 'shop-v1', GATEWAY: 'shop', TARGET: 50, MIN: 1, MAX: 10, ...o.env, ...env },
      workflow: { name: 'autoscaler', version: 1 },
      run: { id: 'run-1', attempt: 1, trigger: { type: 'cron', tick: new Date().toISOString() } },
      log: fakeLog(logs),
      sleep: async () => {},
      state: fakeState(state),
      deployments: {
        list: async () => [deployment()],
        get: async (name: string) => {
          assert.equal(name, 'shop-v1');
          return deployment();
        },
        scale: async (name: string, request: { instances?: number }) => {
          assert.equal(name, 'shop-v1');
          if (o.scaleError) throw Object.assign(new Error(`instances ${request.instances} outside the permitted bounds`), { code: o.scaleError });
          scaled.push(request.instances!);
          // The new size is ready at once here; tests set `dep.ready` for instances still starting.
          dep.desired = request.instances!;
          dep.ready = request.instances!;
          return deployment();
        },
        waitReady: async () => deployment(),
      },
      metrics: {
        gateway: async (name: string, q: GatewayMetricsOptions = {}) => {
          assert.equal(name, 'shop');
          reads.push(q);
          const requests = traffic.noData ? 3 : Math.round(traffic.rate * 60);
          const p99 = traffic.p99 === undefined ? 10 : traffic.p99;
          return {
            gateway: name,
            route: q.route,
            windowMs: 60_000,
            requests,
            rate: traffic.rate,
            errors: 0,
            errorRate: requests ? 0 : null,
            latency: { avg: p99, p50: p99, p95: p99, p99 },
            samples: requests,
            noData: traffic.noData ?? false,
          };
        },
      },
    }) as unknown as Ctx;

  return {
    state,
    scaled,
    logs,
    reads,
    dep,
    traffic(t: Traffic) {
      traffic = t;
    },
    run: (env: Record<string, EnvValue> = {}) => cronAutoscaler(ctx(env)) as Promise<any>,
    /** Makes `ms` pass for what the script stored: its recommendations and last change are that much older. */
    age(ms: number) {
      const s = state.get('autoscaler') as any;
      if (!s) return;
      const back = (at: string) => new Date(Date.parse(at) - ms).toISOString();
      for (const r of s.recommendations) r.at = back(r.at);
      if (s.lastChange) s.lastChange.at = back(s.lastChange.at);
    },
    stored: () => state.get('autoscaler') as any,
  };
}

const MIN = 60_000;

describe('cron-autoscaler: the HPA rule', () => {
  it('scales up to ceil(current × rps per instance / target) and says why', async () => {
    const w = fakeWorld({ instances: 2 });
    w.traffic({ rate: 300 }); // 150 rps per instance, target 50: ratio 3 → 2 × 3 = 6
    const r = await w.run();
    assert.equal(r.action, 'up');
    assert.equal(r.from, 2);
    assert.equal(r.to, 6);
    assert.equal(r.recommendation, 6);
    assert.deepEqual(r.metric, { name: 'rps', value: 150, target: 50, ratio: 3, rate: 300, ready: 2 });
    assert.match(r.reason, /150 rps per ready instance/);
    assert.match(r.reason, /scaling up 2 → 6/);
    assert.ok(!Number.isNaN(Date.parse(r.at)));
    assert.deepEqual(w.scaled, [6]);
    assert.ok(
      w.logs.some((l) => l.message.startsWith('recommendation 6')),
      JSON.stringify(w.logs),
    );
    assert.ok(w.logs.some((l) => l.message.startsWith('up: ')));
  });

  it('rounds up (ceil) and does not turn float noise into an extra instance', async () => {
    const w = fakeWorld({ instances: 3 });
    w.traffic({ rate: 3 * 50 * 1.2 + 0.3 }); // 180.3 rps: 3.606 instances' worth → 4
    assert.equal((await w.run()).to, 4);
    const exact = fakeWorld({ instances: 1 });
    exact.traffic({ rate: 0.1 * 3 * 50 * 10 }); // 150.00000000000003 in floats: exactly 3 instances' worth
    assert.equal((await exact.run()).to, 3);
  });

  it('changes nothing within the 10 % tolerance, either way, and records the current size', async () => {
    for (const rate of [2 * 55, 2 * 45, 2 * 50, 2 * 54.9]) {
      const w = fakeWorld({ instances: 2 });
      w.traffic({ rate });
      const r = await w.run();
      assert.equal(r.action, 'none', `rate ${rate}: ${r.reason}`);
      assert.equal(r.recommendation, 2);
      assert.match(r.reason, /within 10 % of the target 50/);
      assert.deepEqual(w.scaled, []);
      assert.deepEqual(
        w.stored().recommendations.map((x: any) => x.instances),
        [2],
      );
    }
  });

  it('acts just outside the tolerance', async () => {
    const up = fakeWorld({ instances: 10, env: { MAX: 20 } });
    up.traffic({ rate: 10 * 55.1 }); // ratio 1.102
    assert.equal((await up.run()).to, 12);
    const down = fakeWorld({ instances: 10, env: { COOLDOWN: '0s', STABILIZATION: '0s' } });
    down.traffic({ rate: 10 * 44.9 });
    assert.equal((await down.run()).to, 9);
  });

  it('honours a TOLERANCE of its own', async () => {
    const w = fakeWorld({ instances: 2, env: { TOLERANCE: 0.5 } });
    w.traffic({ rate: 2 * 70 }); // ratio 1.4: within 50 %
    assert.equal((await w.run()).action, 'none');
    w.traffic({ rate: 2 * 80 }); // ratio 1.6
    assert.equal((await w.run()).to, 4);
  });

  it('clamps to MAX and MIN', async () => {
    const w = fakeWorld({ instances: 2, env: { MAX: 5 } });
    w.traffic({ rate: 10_000 });
    const r = await w.run();
    assert.equal(r.to, 5);
    assert.equal(r.recommendation, 5);
    assert.match(r.reason, /within MIN\.\.MAX 1\.\.5: 5/);

    const low = fakeWorld({ instances: 3, env: { MIN: 2, STABILIZATION: '0s', COOLDOWN: '0s' } });
    low.traffic({ rate: 1 });
    assert.equal((await low.run()).to, 2);
    assert.equal((await low.run()).action, 'none', 'at MIN it stays');
  });

  it('brings a deployment scaled outside MIN..MAX by hand back inside, even within tolerance', async () => {
    const w = fakeWorld({ instances: 12, env: { MAX: 8 } });
    w.traffic({ rate: 12 * 50 }); // exactly on target: the rule alone would keep 12
    const r = await w.run();
    assert.equal(r.action, 'down');
    assert.equal(r.to, 8);
    const under = fakeWorld({ instances: 1, env: { MIN: 3 } });
    under.traffic({ rate: 50 });
    assert.equal((await under.run()).to, 3);
  });

  it('reads the gateway, or one route, over WINDOW with MIN_SAMPLES', async () => {
    const w = fakeWorld({ env: { ROUTE: 'stable', WINDOW: '30s', MIN_SAMPLES: 25 } });
    w.traffic({ rate: 100 });
    await w.run();
    assert.deepEqual(w.reads, [{ route: 'stable', window: '30s', minSamples: 25 }]);
    const whole = fakeWorld();
    whole.traffic({ rate: 100 });
    await whole.run();
    assert.deepEqual(whole.reads, [{ window: '1m', minSamples: 10 }]);
  });
});

describe('cron-autoscaler: p99', () => {
  it('scales on p99 latency against a target in ms', async () => {
    const w = fakeWorld({ instances: 2, env: { METRIC: 'p99', TARGET: 100 } });
    w.traffic({ rate: 1, p99: 250 }); // ratio 2.5 → ceil(2 × 2.5) = 5
    const r = await w.run();
    assert.equal(r.action, 'up');
    assert.equal(r.to, 5);
    assert.equal(r.metric.name, 'p99');
    assert.equal(r.metric.value, 250);
    assert.match(r.reason, /p99 250 ms/);
  });

  it('scales down on a low p99 (after the window), and holds within tolerance', async () => {
    const w = fakeWorld({ instances: 4, env: { METRIC: 'p99', TARGET: 100, STABILIZATION: '0s', COOLDOWN: '0s' } });
    w.traffic({ rate: 1, p99: 105 });
    assert.equal((await w.run()).action, 'none');
    w.traffic({ rate: 1, p99: 40 }); // ceil(4 × 0.4) = 2
    assert.equal((await w.run()).to, 2);
  });

  it('waits for instances still starting before scaling up on latency', async () => {
    const w = fakeWorld({ instances: 4, ready: 2, env: { METRIC: 'p99', TARGET: 100 } });
    w.traffic({ rate: 1, p99: 300 });
    const r = await w.run();
    assert.equal(r.action, 'none');
    assert.match(r.reason, /2 instance\(s\) are not ready yet/);
    assert.deepEqual(w.scaled, []);
    w.dep.ready = 4;
    assert.equal((await w.run()).to, 10, 'once they are ready: ceil(4 × 3) = 12, within MAX 10');
  });

  it('is noData without a p99, and needs TARGET', async () => {
    const w = fakeWorld({ env: { METRIC: 'p99', TARGET: 100 } });
    w.traffic({ rate: 1, p99: null });
    const r = await w.run();
    assert.equal(r.action, 'none');
    assert.match(r.reason, /no p99/);
    await assert.rejects(fakeWorld({ env: { METRIC: 'p99', TARGET: null } }).run(), /TARGET: required: the p99 target in ms/);
  });
});

describe('cron-autoscaler: instances that are not ready', () => {
  it('counts instances still becoming ready as taking their share: no second scale-up on the same load', async () => {
    const w = fakeWorld({ instances: 4, ready: 2 });
    w.traffic({ rate: 200 }); // 100 rps per ready instance, but 50 each once all 4 serve
    const r = await w.run();
    assert.equal(r.action, 'none');
    assert.equal(r.metric.value, 100);
    assert.match(r.reason, /still becoming ready taking their share it is 50 rps each/);
    assert.deepEqual(w.scaled, []);
  });

  it('still scales up when even the starting instances will not be enough', async () => {
    const w = fakeWorld({ instances: 4, ready: 2 });
    w.traffic({ rate: 400 }); // 100 each across all 4: ceil(400 / 50) = 8
    assert.equal((await w.run()).to, 8);
  });

  it('leaves a deployment without ready instances, or scaled to zero, alone', async () => {
    const none = fakeWorld({ instances: 3, ready: 0 });
    none.traffic({ rate: 500 });
    const r = await none.run();
    assert.equal(r.action, 'none');
    assert.match(r.reason, /no ready instance/);
    const zero = fakeWorld({ instances: 0, ready: 0 });
    zero.traffic({ rate: 500 });
    const z = await zero.run();
    assert.equal(z.action, 'none');
    assert.match(z.reason, /scaled to 0: autoscaling is off/);
    assert.deepEqual([...none.scaled, ...zero.scaled], []);
    assert.equal(none.stored(), undefined, 'nothing recorded');
  });
});

describe('cron-autoscaler: noData', () => {
  it('leaves the deployment alone and records no recommendation', async () => {
    const w = fakeWorld({ instances: 5 });
    w.traffic({ rate: 0, noData: true });
    const r = await w.run();
    assert.deepEqual(
      { action: r.action, from: r.from, to: r.to, metric: r.metric, recommendation: r.recommendation },
      { action: 'none', from: 5, to: 5, metric: null, recommendation: null },
    );
    assert.match(r.reason, /no data: 3 request\(s\) on shop in 1m \(fewer than 10\); leaving shop-v1 alone/);
    assert.deepEqual(w.scaled, []);
    assert.equal(w.stored(), undefined);
  });

  it('does not let noData ticks age a high recommendation out of the window early', async () => {
    const w = fakeWorld({ instances: 2 });
    w.traffic({ rate: 300 });
    await w.run(); // up to 6
    w.traffic({ rate: 0, noData: true });
    for (let i = 0; i < 3; i++) assert.equal((await w.run()).action, 'none');
    assert.deepEqual(
      w.stored().recommendations.map((x: any) => x.instances),
      [6],
    );
  });
});

describe('cron-autoscaler: scale-down stabilisation window', () => {
  it('scales down only to the highest recommendation of the window, and only once the higher ones are older than it', async () => {
    const w = fakeWorld({ instances: 2 }); // STABILIZATION 5m, COOLDOWN 1m
    w.traffic({ rate: 300 });
    assert.equal((await w.run()).to, 6);

    w.age(1 * MIN);
    w.traffic({ rate: 200 }); // recommends 4
    const held = await w.run();
    assert.equal(held.action, 'hold');
    assert.equal(held.recommendation, 4);
    assert.equal(held.to, 6);
    assert.match(held.reason, /highest recommendation within the last 300 s is 6/);

    w.age(1 * MIN);
    w.traffic({ rate: 60 }); // recommends 2
    assert.equal((await w.run()).action, 'hold');
    // The window holds the 6 (2 min old), the 4 (1 min) and the 2 (now).
    assert.deepEqual(
      w.stored().recommendations.map((x: any) => x.instances),
      [6, 4, 2],
    );

    w.age(3 * MIN - 1000); // the 6 is 1 s short of 5 min old
    assert.equal((await w.run()).action, 'hold');
    w.age(2000); // now it is older than the window; the 4 (4 min old) is the highest left
    const down = await w.run();
    assert.equal(down.action, 'down');
    assert.equal(down.to, 4);
    assert.equal(down.recommendation, 2);
    assert.match(down.reason, /highest recommendation within the last 300 s is 4: scaling down 6 → 4/);

    w.age(1 * MIN + 1000); // the 4 is out too, and the change to 4 has cooled down
    const last = await w.run();
    assert.equal(last.action, 'down');
    assert.equal(last.to, 2);
    assert.deepEqual(w.scaled, [6, 4, 2]);
  });

  it('keeps only the recommendations that can still win, so state stays small at any tick rate', async () => {
    const w = fakeWorld({ instances: 1, env: { MAX: 20, STABILIZATION: '1h' } });
    for (let i = 0; i < 2000; i++) {
      w.traffic({ rate: 50 * (1 + ((i * 7) % 20)) });
      await w.run();
      w.age(1000);
    }
    const recs = w.stored().recommendations.map((x: any) => x.instances);
    assert.ok(recs.length <= 20, `${recs.length} kept`);
    for (let i = 1; i < recs.length; i++) assert.ok(recs[i] < recs[i - 1], `strictly decreasing: ${recs}`);
    assert.ok(JSON.stringify(w.stored()).length < 2048);
  });

  it('with STABILIZATION 0s scales down at once (after the cooldown)', async () => {
    const w = fakeWorld({ instances: 6, env: { STABILIZATION: '0s' } });
    w.traffic({ rate: 60 });
    const r = await w.run();
    assert.equal(r.action, 'down');
    assert.equal(r.to, 2);
    assert.deepEqual(w.stored().recommendations, []);
  });

  it('starts afresh when DEPLOYMENT changes', async () => {
    const w = fakeWorld({ instances: 2 });
    w.traffic({ rate: 300 });
    await w.run();
    w.state.set('autoscaler', { ...w.stored(), deployment: 'shop-v0' });
    w.traffic({ rate: 60 });
    const r = await w.run();
    assert.equal(r.action, 'down', "the old deployment's recommendations do not hold this one");
    assert.equal(w.stored().deployment, 'shop-v1');
  });
});

describe('cron-autoscaler: cooldown', () => {
  it('does not scale down within COOLDOWN of a change', async () => {
    const w = fakeWorld({ instances: 2, env: { STABILIZATION: '0s', COOLDOWN: '1m' } });
    w.traffic({ rate: 300 });
    assert.equal((await w.run()).to, 6);
    w.age(30_000);
    w.traffic({ rate: 60 });
    const held = await w.run();
    assert.equal(held.action, 'hold');
    assert.match(held.reason, /last change \(2 → 6 at .*\) is cooling down for another/);
    w.age(31_000);
    assert.equal((await w.run()).to, 2);
  });

  it('does not hold a scale-up: a burst right after a scale-down is answered at once', async () => {
    const w = fakeWorld({ instances: 6, env: { STABILIZATION: '0s', COOLDOWN: '10m' } });
    w.traffic({ rate: 60 });
    assert.equal((await w.run()).to, 2);
    w.traffic({ rate: 500 });
    const r = await w.run();
    assert.equal(r.action, 'up');
    assert.equal(r.to, 10);
    assert.deepEqual(w.stored().lastChange.from, 2);
  });
});

describe('cron-autoscaler: bounds, retries and configuration', () => {
  it('fails the run when Veer refuses a scale outside the permission bounds (MIN..MAX must lie within them)', async () => {
    const w = fakeWorld({ instances: 2, scaleError: 'PERMISSION' });
    w.traffic({ rate: 10_000 });
    await assert.rejects(w.run(), (err: Error & { code?: string }) => err.code === 'PERMISSION');
    assert.equal(w.stored(), undefined, 'a refused change is not recorded as made');
  });

  it('is safe to run again at once: the change is absolute', async () => {
    const w = fakeWorld({ instances: 2 });
    w.traffic({ rate: 300 });
    await w.run();
    const again = await w.run();
    assert.equal(again.action, 'none');
    assert.deepEqual(w.scaled, [6]);
  });

  it('names the variable that is wrong', async () => {
    const cases: Array<[Record<string, EnvValue>, RegExp]> = [
      [{ DEPLOYMENT: null }, /^Error: DEPLOYMENT: required/],
      [{ GATEWAY: '' }, /^Error: GATEWAY: required/],
      [{ METRIC: 'cpu' }, /^Error: METRIC: must be "rps" or "p99", got "cpu"/],
      [{ TARGET: 0 }, /^Error: TARGET: must be per-instance requests per second > 0/],
      [{ MIN: 0 }, /^Error: MIN: must be a whole number ≥ 1/],
      [{ MIN: 4, MAX: 3 }, /^Error: MAX: must be ≥ MIN \(4\), got 3/],
      [{ TOLERANCE: 1 }, /^Error: TOLERANCE: must be a fraction/],
      [{ STABILIZATION: 'soon' }, /^Error: STABILIZATION: must be a duration like "30s"/],
      [{ COOLDOWN: '5 minutes' }, /^Error: COOLDOWN: must be a duration/],
      [{ WINDOW: '500ms' }, /^Error: WINDOW: must be at least 1s/],
      [{ TARGET_RPS: 50 }, /^Error: TARGET_RPS: replaced by TARGET/],
      [{ DOWN_AFTER: 3 }, /^Error: DOWN_AFTER: replaced by STABILIZATION/],
    ];
    for (const [env, message] of cases) {
      await assert.rejects(fakeWorld({ env }).run(), (err: Error) => message.test(String(err)), JSON.stringify(env));
    }
  });
});
