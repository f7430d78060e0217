import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import rollbackHook from '../../workflows/rollback-hook.ts';
import type { Ctx, Deployment, EnvValue, EventQuery, Gateway, RunTrigger, SetWeightsOptions, VeerEvent } from '../../workflows/types.ts';
import { fakeGateway } from './fake-ctx.ts';

/**
 * The rollback-hook script against a fake ctx: which weights it restores (the canary's
 * record, trusted only from workflows, or stable 100), the canary scale-down and its
 * refusals, idempotence, the rollback's cause and reason, resolved alerts and bad
 * configuration. test/e2e/rollback-hook.test.ts proves it on HAProxy with queued alerts.
 */

interface FakeOptions {
  env?: Record<string, EnvValue>;
  weights?: Record<string, number>;
  /** Newest first, as ctx.events.query answers. */
  records?: Array<Partial<VeerEvent>>;
  canaryInstances?: number;
  /** deployments.scale throws with this code. */
  scaleError?: string;
  /** deployments.get throws NOT_FOUND. */
  noDeployment?: boolean;
}

const started = (stableWeights: unknown, extra: Partial<VeerEvent> = {}, gateway = 'shop'): Partial<VeerEvent> => ({
  id: `canary-${Math.random().toString(36).slice(2, 8)}`,
  type: 'canary.started',
  tags: ['canary', 'canary:shop', 'workflows:shop-canary'],
  source: 'workflow:shop-canary/run-7',
  value: { gateway, release: 'v2', stableWeights, steps: [{ weight: 5 }] },
  ...extra,
});

const alert = (value: unknown, id = 'ev-alert-1'): VeerEvent => ({
  id,
  tags: ['alerts', 'alerts:shop'],
  type: 'alert',
  value,
  timestamp: '2026-01-01T00:00:00.000Z',
  source: 'api',
});

function fakeWorld(o: FakeOptions = {}) {
  const routes: Record<string, number> = { ...(o.weights ?? { stable: 75, canary: 25 }) };
  const setWeights: Array<{ weights: Record<string, number>; options?: SetWeightsOptions }> = [];
  const scaled: number[] = [];
  const emitted: unknown[] = [];
  const queries: EventQuery[] = [];
  const logs: Array<{ level: string; message: string }> = [];
  let canary = o.canaryInstances ?? 2;
  const gateway = (): Gateway => fakeGateway(routes, { conditionStrength: 100, revision: String(setWeights.length + 1) });
  const deployment = (): Deployment => ({
    name: 'shop-v2',
    desiredInstances: canary,
    readyInstances: canary,
    labels: {},
    status: 'ready',
    endpoints: [],
  });
  const log = (level: string) => (message: string) => void logs.push({ level, message });
  const json = <T>(v: T): T => JSON.parse(JSON.stringify(v));
  const ctx = (input: unknown, trigger: RunTrigger, env: Record<string, EnvValue>): Ctx =>
    ({
      input: json(input ?? null),
      env: { GATEWAY: 'shop', CANARY_DEPLOYMENT: 'shop-v2', ...o.env, ...env },
      workflow: { name: 'rollback-hook', version: 1 },
      run: { id: 'run-1', attempt: 1, trigger },
      log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
      sleep: async () => {},
      state: {
        get: async () => assert.fail('the hook keeps no state'),
        set: async () => assert.fail('the hook keeps no state'),
        delete: async () => assert.fail('the hook keeps no state'),
      },
      gateways: {
        list: async () => [gateway()],
        get: async (name: string) => {
          assert.equal(name, 'shop');
          return gateway();
        },
        setWeights: async (name: string, weights: Record<string, number>, options?: SetWeightsOptions) => {
          assert.equal(name, 'shop');
          for (const [route, w] of Object.entries(weights)) {
            assert.ok(route in routes, `no route ${route}`);
            routes[route] = w;
          }
          assert.equal(
            Object.values(routes).reduce((a, w) => a + w, 0),
            100,
          );
          setWeights.push(options ? { weights: json(weights), options: json(options) } : { weights: json(weights) });
          return gateway();
        },
        update: async () => assert.fail('update is not used'),
      },
      deployments: {
        list: async () => [deployment()],
        get: async (name: string) => {
          if (o.noDeployment) throw Object.assign(new Error(`deployment '${name}' not found`), { code: 'NOT_FOUND' });
          assert.equal(name, 'shop-v2');
          return deployment();
        },
        scale: async (name: string, request: { instances?: number }) => {
          assert.equal(name, 'shop-v2');
          if (o.scaleError) throw Object.assign(new Error(`scaling ${name} to ${request.instances} is refused`), { code: o.scaleError });
          canary = request.instances!;
          scaled.push(canary);
          return deployment();
        },
        waitReady: async () => deployment(),
      },
      events: {
        emit: async (e: unknown) => {
          emitted.push(e);
          return assert.fail('the hook emits nothing itself: Veer emits gateway.rolled_back');
        },
        query: async (q: EventQuery = {}) => {
          queries.push(json(q));
          return json(o.records ?? []);
        },
      },
      metrics: { gateway: async () => assert.fail('the hook reads no metrics') },
      signals: { take: async () => undefined },
    }) as unknown as Ctx;

  return {
    routes,
    setWeights,
    scaled,
    emitted,
    queries,
    logs,
    canary: () => canary,
    /** One run triggered by `event` (default: an alert). */
    onAlert: (event: VeerEvent = alert({ summary: 'canary 5xx above stable' }), env: Record<string, EnvValue> = {}) =>
      rollbackHook(ctx(event, { type: 'event', eventId: event.id }, env)) as Promise<any>,
    manual: (input: unknown, env: Record<string, EnvValue> = {}) => rollbackHook(ctx(input, { type: 'manual' }, env)) as Promise<any>,
  };
}

describe('rollback-hook: which weights it restores', () => {
  it('restores the stable weights the canary recorded, as a rollback caused by the alert, and reports where they came from', async () => {
    const record = started({ stable: 90, legacy: 10, canary: 0 });
    const w = fakeWorld({ weights: { stable: 60, legacy: 10, canary: 30 }, records: [record] });
    const r = await w.onAlert();
    assert.deepEqual(w.setWeights, [
      {
        weights: { stable: 90, legacy: 10, canary: 0 },
        options: { rollback: { cause: 'ev-alert-1', reason: 'canary 5xx above stable' } },
      },
    ]);
    assert.deepEqual(w.routes, { stable: 90, legacy: 10, canary: 0 });
    assert.equal(r.changed, true);
    assert.deepEqual(r.before, { stable: 60, legacy: 10, canary: 30 });
    assert.deepEqual(r.after, { stable: 90, legacy: 10, canary: 0 });
    assert.deepEqual(r.restored, { from: 'canary.started', event: record.id, release: 'v2' });
    assert.equal(r.cause, 'ev-alert-1');
    assert.equal(r.reason, 'canary 5xx above stable');
    assert.deepEqual(w.queries, [{ tags: 'canary:shop', type: 'canary.started', limit: 20 }]);
    assert.deepEqual(w.emitted, []);
    assert.ok(w.logs.some((l) => l.level === 'warn' && l.message === 'rolled shop back'));
  });

  it('takes the newest record from a workflow, skipping ones for another gateway', async () => {
    const newest = started({ stable: 100, canary: 0 }, {}, 'checkout');
    const mine = started({ stable: 80, legacy: 20, canary: 0 });
    const older = started({ stable: 100, legacy: 0, canary: 0 });
    const w = fakeWorld({ weights: { stable: 50, legacy: 20, canary: 30 }, records: [newest, mine, older] });
    const r = await w.onAlert();
    assert.equal(r.restored.event, mine.id);
    assert.deepEqual(w.routes, { stable: 80, legacy: 20, canary: 0 });
  });

  it('sets a route the record does not name to 0', async () => {
    const w = fakeWorld({ weights: { stable: 50, canary: 25, mirror: 25 }, records: [started({ stable: 100, canary: 0 })] });
    await w.onAlert();
    assert.deepEqual(w.routes, { stable: 100, canary: 0, mirror: 0 });
  });

  it('falls back to STABLE_ROUTE 100 without a visible record, and says which permission is missing', async () => {
    const w = fakeWorld({ weights: { stable: 50, legacy: 20, canary: 30 } });
    const r = await w.onAlert();
    assert.deepEqual(w.routes, { stable: 100, legacy: 0, canary: 0 });
    assert.deepEqual(r.restored, { from: 'stable-100' });
    assert.ok(
      w.logs.some((l) => /permissions\.events must grant canary:shop.*restoring stable 100/.test(l.message)),
      JSON.stringify(w.logs),
    );
  });

  it('honours STABLE_ROUTE and CANARY_ROUTE', async () => {
    const w = fakeWorld({ weights: { blue: 40, green: 60 }, env: { STABLE_ROUTE: 'blue', CANARY_ROUTE: 'green' } });
    await w.onAlert();
    assert.deepEqual(w.routes, { blue: 100, green: 0 });
    const rec = fakeWorld({
      weights: { blue: 40, green: 60 },
      env: { STABLE_ROUTE: 'blue', CANARY_ROUTE: 'green' },
      records: [started({ blue: 100, green: 0 })],
    });
    assert.equal((await rec.onAlert()).restored.from, 'canary.started');
  });

  it('does not trust a canary.started posted to the API, nor, with CANARY_WORKFLOW, one from another workflow', async () => {
    const forged = started({ stable: 0, canary: 100 }, { source: 'api' });
    const w = fakeWorld({ records: [forged] });
    const r = await w.onAlert();
    assert.deepEqual(r.restored, { from: 'stable-100' });
    assert.deepEqual(w.routes, { stable: 100, canary: 0 });
    assert.ok(w.logs.some((l) => /1 from other sources ignored/.test(l.message)));

    const other = started({ stable: 70, canary: 0, legacy: 30 }, { source: 'workflow:someone-else/run-1' });
    const ours = started({ stable: 90, canary: 0, legacy: 10 });
    const picky = fakeWorld({ weights: { stable: 50, canary: 50, legacy: 0 }, env: { CANARY_WORKFLOW: 'shop-canary' }, records: [other, ours] });
    assert.equal((await picky.onAlert()).restored.event, ours.id);
    assert.deepEqual(picky.routes, { stable: 90, canary: 0, legacy: 10 });
    // Without CANARY_WORKFLOW any workflow's record counts: the newest one wins.
    const open = fakeWorld({ weights: { stable: 50, canary: 50, legacy: 0 }, records: [other, ours] });
    assert.equal((await open.onAlert()).restored.event, other.id);
  });

  it('falls back to stable 100 on a record it cannot use, and says why', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ stable: 100, canary: 0, gone: 0 }, /names routes the gateway no longer has/],
      [{ stable: 95, canary: 5 }, /gives canary 5 %/],
      [{ stable: 90, canary: 0 }, /do not add up to 100/],
      [{ stable: 99.5, canary: 0.5 }, /not whole percentages/],
      [{ stable: 0, canary: 0 }, /do not add up to 100/],
      [{ stable: '100', canary: 0 }, /not whole percentages/],
      ['100/0', /do not add up to 100/],
    ];
    for (const [stableWeights, why] of cases) {
      const w = fakeWorld({ records: [started(stableWeights)] });
      const r = await w.onAlert();
      assert.deepEqual(r.restored, { from: 'stable-100' }, JSON.stringify(stableWeights));
      assert.deepEqual(w.routes, { stable: 100, canary: 0 });
      assert.ok(
        w.logs.some((l) => l.level === 'warn' && why.test(l.message)),
        `${JSON.stringify(stableWeights)}: ${JSON.stringify(w.logs)}`,
      );
    }
  });
});

describe('rollback-hook: idempotent', () => {
  it('a second alert changes nothing, scales nothing and emits nothing', async () => {
    const w = fakeWorld({ records: [started({ stable: 100, canary: 0 })] });
    assert.equal((await w.onAlert()).changed, true);
    const second = await w.onAlert(alert({ summary: 'still failing' }, 'ev-alert-2'));
    assert.deepEqual(second, { changed: false, gateway: 'shop', weights: { stable: 100, canary: 0 } });
    assert.equal(w.setWeights.length, 1);
    assert.deepEqual(w.scaled, [0]);
    assert.deepEqual(w.emitted, []);
    assert.ok(w.logs.some((l) => l.message === 'shop is already rolled back: nothing changed'));
  });

  it('a gateway already on its stable weights with the canary at its minimum is left alone', async () => {
    const w = fakeWorld({ weights: { stable: 100, canary: 0 }, canaryInstances: 0 });
    const r = await w.onAlert();
    assert.equal(r.changed, false);
    assert.deepEqual([w.setWeights, w.scaled], [[], []]);
  });

  it('scales a canary scaled back up by hand down again even when the weights are already back', async () => {
    const w = fakeWorld({ weights: { stable: 100, canary: 0 }, canaryInstances: 3 });
    const r = await w.onAlert();
    assert.equal(r.changed, true);
    assert.deepEqual(r.canaryScale, { deployment: 'shop-v2', from: 3, to: 0 });
    assert.deepEqual(w.setWeights, []);
  });
});

describe('rollback-hook: the canary deployment', () => {
  it('scales CANARY_DEPLOYMENT down to CANARY_MIN_INSTANCES', async () => {
    const w = fakeWorld({ canaryInstances: 4, env: { CANARY_MIN_INSTANCES: 1 } });
    const r = await w.onAlert();
    assert.deepEqual(w.scaled, [1]);
    assert.deepEqual(r.canaryScale, { deployment: 'shop-v2', from: 4, to: 1 });
  });

  it('does not scale without CANARY_DEPLOYMENT, or one already at or below its minimum', async () => {
    const none = fakeWorld({ env: { CANARY_DEPLOYMENT: null } });
    const r = await none.onAlert();
    assert.equal(r.canaryScale, undefined);
    const low = fakeWorld({ canaryInstances: 1, env: { CANARY_MIN_INSTANCES: 2 } });
    await low.onAlert();
    assert.deepEqual([none.scaled, low.scaled], [[], []]);
  });

  it('logs a refused scale-down (PermissionError) and still rolls the traffic back', async () => {
    const w = fakeWorld({ scaleError: 'PERMISSION' });
    const r = await w.onAlert();
    assert.equal(r.changed, true);
    assert.deepEqual(w.routes, { stable: 100, canary: 0 });
    assert.match(r.canaryScale.error, /^PERMISSION: scaling shop-v2 to 0 is refused/);
    assert.ok(w.logs.some((l) => l.level === 'warn' && /could not scale shop-v2 down to 0 \(permissions\.deployments must allow/.test(l.message)));
    // The refusal alone is no change: the next alert reports nothing changed.
    const again = await w.onAlert();
    assert.equal(again.changed, false);
    assert.match(again.canaryScale.error, /^PERMISSION/);
  });

  it('logs other scale failures and a missing deployment as errors or warnings, never failing the run', async () => {
    const broken = fakeWorld({ scaleError: 'SCHEDULER.UNAVAILABLE' });
    const r = await broken.onAlert();
    assert.equal(r.changed, true);
    assert.ok(broken.logs.some((l) => l.level === 'error' && /could not scale shop-v2 down to 0$/.test(l.message)));
    const missing = fakeWorld({ noDeployment: true });
    const m = await missing.onAlert();
    assert.deepEqual(m.canaryScale, { deployment: 'shop-v2', from: null, to: 0, error: "NOT_FOUND: deployment 'shop-v2' not found" });
    assert.deepEqual(missing.routes, { stable: 100, canary: 0 });
  });
});

describe('rollback-hook: the alert', () => {
  it('takes the reason from the summaries alert senders use, else the event type, at most 500 characters', async () => {
    const cases: Array<[unknown, string]> = [
      [{ summary: 'p99 high' }, 'p99 high'],
      [{ annotations: { summary: 'error budget burn' } }, 'error budget burn'],
      [{ status: 'firing', commonAnnotations: { summary: 'ShopErrors firing' }, alerts: [] }, 'ShopErrors firing'],
      [{ status: 'firing', alerts: [{ annotations: { summary: 'first alert' } }] }, 'first alert'],
      ['plain text alert', 'plain text alert'],
      [{ why: '5xx' }, '5xx'],
      [{ message: 'down' }, 'down'],
      [{ nothing: 'useful' }, 'alert event ev-alert-1'],
      [{ summary: 'x'.repeat(600) }, 'x'.repeat(500)],
    ];
    for (const [value, reason] of cases) {
      const w = fakeWorld();
      await w.onAlert(alert(value));
      assert.equal(w.setWeights[0].options?.rollback?.reason, reason, JSON.stringify(value));
    }
  });

  it('names the cause: the triggering event, or the event given to a manual run', async () => {
    const manual = fakeWorld();
    await manual.manual(alert({ summary: 'by hand' }, 'ev-by-hand'));
    assert.deepEqual(manual.setWeights[0].options, { rollback: { cause: 'ev-by-hand', reason: 'by hand' } });
    const bare = fakeWorld();
    const r = await bare.manual(null);
    assert.deepEqual(bare.setWeights[0].options, { rollback: { reason: 'rollback requested' } });
    assert.equal(r.cause, null);
  });

  it('ignores a resolved alert', async () => {
    const w = fakeWorld();
    const r = await w.onAlert(alert({ status: 'resolved', commonAnnotations: { summary: 'ShopErrors' } }));
    assert.deepEqual(r, { changed: false, ignored: 'resolved' });
    assert.deepEqual([w.setWeights, w.scaled, w.queries], [[], [], []]);
  });
});

describe('rollback-hook: configuration', () => {
  it('names the variable that is wrong', async () => {
    await assert.rejects(fakeWorld({ env: { GATEWAY: null } }).onAlert(), /^Error: GATEWAY: required/);
    await assert.rejects(fakeWorld({ env: { CANARY_MIN_INSTANCES: -1 } }).onAlert(), /^Error: CANARY_MIN_INSTANCES: must be a whole number ≥ 0, got -1/);
    await assert.rejects(
      fakeWorld({ env: { STABLE_ROUTE: 'main' } }).onAlert(),
      /^Error: STABLE_ROUTE: gateway 'shop' has no route 'main' \(routes: stable, canary\)/,
    );
  });
});
