import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { freePort } from '../helpers/free-port.ts';
import { failingFraction, startHttpBackend, type HttpBackend, type HttpBackendOptions } from '../helpers/http-backends.ts';
import { runLoad, startLoad, type RunningLoad } from '../helpers/load.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';
import { cleanup, startE2eAgent, waitLive, type E2eAgent } from './support.ts';

/**
 * The built-in canary-release template, installed from GET /api/v1/templates/canary-release as a
 * user would, against a real HAProxy fed by real traffic. Cron every second and a 5 s window keep
 * each release to seconds; every wait is on a run result or the workflow's state, with a deadline
 * generous enough for a loaded 2-core machine. Timings are printed, never asserted.
 */

// Generous: a loaded machine may take a while, and a deadline is only a failure bound.
const RELEASE_WAIT = { timeoutMs: 120_000, intervalMs: 100 };
const WAIT = { timeoutMs: 30_000, intervalMs: 50 };
const WINDOW = '5s';
const MIN_SAMPLES = 20;
const EVERY_SECOND = { cron: '* * * * * *', timezone: 'UTC', signals: true };
// Once a year: only a signal (or a manual run) can start a run while a test lasts.
const YEARLY = { cron: '0 0 0 1 1 *', timezone: 'UTC', signals: true };
// Tests with traffic: a loaded machine may take a few checks to gather MIN_SAMPLES at weight 5, which must not abort the release.
const PATIENT = { MAX_NO_DATA: 30 };

interface Release {
  id: string;
  phase: string;
  stepIndex: number;
  weight: number;
  failures: number;
  noDataStreak: number;
  stableWeights: Record<string, number>;
}
interface HistoryEntry {
  time: string;
  weight: number;
  action: string;
  phase: string;
  count?: number;
  verdict: { outcome: string; canary?: any; stable?: any; checks: Array<{ check: string; value: number; limit: number; ok: boolean }> };
}

describe('canary-release workflow on a real gateway', () => {
  let t: TestSystem;
  let agent: E2eAgent | undefined;
  const backends: HttpBackend[] = [];
  const loads: RunningLoad[] = [];
  const workflows: string[] = [];
  const calls = workflowCalls(() => t);

  before(async () => {
    t = await startTestSystem({ engine: true });
    agent = await startE2eAgent(t);
  });
  // Each test's traffic and per-second runs end with it, so they do not load the next one.
  afterEach(async () => {
    await cleanup([...loads.splice(0).map((l) => () => l.stop()), ...workflows.splice(0).map((w) => () => t.call('DELETE', `/api/v1/workflows/${w}`))]);
  });
  after(async () => {
    await cleanup([agent?.stop, ...backends.map((b) => b.close), t?.stop]);
  });

  const ok = (r: { status: number; body: unknown }, what: string) =>
    assert.ok(r.status >= 200 && r.status < 300, `${what}: ${r.status} ${JSON.stringify(r.body)}`);

  /** Gateway `name` (stable 100 / canary 0) with a route to each of two fresh backends. */
  async function gateway(name: string, canary: { status?: (n: number) => number; options?: HttpBackendOptions } = {}, stable: HttpBackendOptions = {}) {
    const s = await startHttpBackend('stable', () => 200, stable);
    const c = await startHttpBackend('canary', canary.status, canary.options);
    backends.push(s, c);
    const port = await freePort();
    ok(
      await t.call('PUT', `/api/v1/gateways/${name}`, {
        port,
        routes: {
          stable: { weight: 100, targets: [{ host: '127.0.0.1', port: s.port }] },
          canary: { weight: 0, targets: [{ host: '127.0.0.1', port: c.port }] },
        },
      }),
      `gateway ${name}`,
    );
    await waitLive(t, name);
    return { url: `http://127.0.0.1:${port}/`, stable: s, canary: c };
  }

  /** The template as GET /api/v1/templates/canary-release gives it, pointed at `gw`, with `env` on top. */
  async function install(name: string, gw: string, env: Record<string, unknown>, trigger: Record<string, unknown> | null = EVERY_SECOND) {
    const tpl = await t.call('GET', '/api/v1/templates/canary-release');
    assert.equal(tpl.status, 200);
    const { trigger: _trigger, ...workflow } = tpl.body.workflow;
    assert.equal(_trigger.signals, true, 'the template starts a run on a signal');
    workflows.push(name);
    await calls.put(name, {
      ...workflow,
      ...(trigger ? { trigger } : {}),
      // No canary deployment here (the backends are plain servers); scaling is the unit tests' part.
      env: { ...workflow.env, GATEWAY: gw, CANARY_DEPLOYMENT: null, WINDOW, MIN_SAMPLES, ...env },
      permissions: { gateways: [gw], deployments: {} },
    });
  }

  const load = (url: string, concurrency = 2) => {
    const l = startLoad({ url, concurrency, maxMs: 180_000 });
    loads.push(l);
    return l;
  };
  const state = async (name: string): Promise<{ release?: Release; history?: HistoryEntry[] }> => {
    const r = await t.call('GET', `/api/v1/workflows/${name}/state`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.state;
  };
  const waitRelease = (name: string, what: string, pred: (r: Release) => boolean) =>
    waitFor(
      async () => {
        const r = (await state(name)).release;
        return r && pred(r) && r;
      },
      { ...RELEASE_WAIT, what: `${name}: ${what}` },
    );
  const weightsOf = async (gw: string) => {
    const g = (await t.call('GET', `/api/v1/gateways/${gw}`)).body;
    return { stable: g.routes.stable.weight, canary: g.routes.canary.weight };
  };
  const events = async (gw: string, type?: string) =>
    (await t.call('GET', `/api/v1/events?tag=canary:${gw}&order=asc&limit=1000${type ? `&type=${type}` : ''}`)).body.events as any[];
  const signal = async (name: string, signalName: string) => {
    const r = await t.call('POST', `/api/v1/workflows/${name}/signals`, { name: signalName });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { signal: { id: string }; run?: { id: string } | null };
  };
  /** Real requests through HAProxy after its current revision is live: body (backend name) → count. */
  const probe = async (gw: string, url: string, requests = 50) => {
    await waitLive(t, gw);
    const r = await runLoad({ url, requests, concurrency: 1, keepAlive: false });
    assert.equal(r.failures, 0, JSON.stringify(r.errors));
    return r.counts;
  };
  /** Until the metrics store holds a judgeable canary window (what the script's next check needs). */
  const canaryData = (gw: string) =>
    waitFor(
      async () => {
        const m = (await t.call('GET', `/api/v1/gateways/${gw}/metrics?window=${WINDOW}&route=canary&minSamples=${MIN_SAMPLES}`)).body;
        return m.noData === false;
      },
      { ...WAIT, what: `${MIN_SAMPLES} canary requests within ${WINDOW} on ${gw}` },
    );
  const stepWeights = (h: HistoryEntry[]) => h.filter((e) => e.action === 'step' || e.action === 'promoted').map((e) => e.weight);

  it('promotes a healthy canary 5 → 25 → 50, holds at the manual gate until promote, then 100, failing no request', async () => {
    const gw = await gateway('shop');
    const traffic = load(gw.url);
    // p99 tails of a loaded test machine are not this test's subject: a wide tolerance keeps them from failing checks.
    await install('shop-canary', 'shop', { ...PATIENT, P99_TOLERANCE_MS: 100 });

    const gated = await waitRelease('shop-canary', 'paused at the manual gate at 50', (r) => r.phase === 'paused' && r.weight === 50);
    assert.deepEqual(gated.stableWeights, { stable: 100, canary: 0 }, 'the weights before the release');
    assert.deepEqual(await weightsOf('shop'), { stable: 50, canary: 50 });

    // Passing checks do not open a manual gate: wait for three more runs at the gate.
    const gateRuns = async () => (await calls.runsOf('shop-canary')).filter((r) => r.status === 'succeeded' && r.result?.action === 'paused').length;
    await waitFor(async () => (await gateRuns()) >= 3, { ...RELEASE_WAIT, what: 'three runs holding at the gate' });
    assert.deepEqual(await weightsOf('shop'), { stable: 50, canary: 50 }, 'still at the gate');
    assert.equal((await state('shop-canary')).release?.phase, 'paused');

    await signal('shop-canary', 'promote');
    const done = await waitRelease('shop-canary', 'promoted', (r) => r.phase === 'promoted');
    assert.equal(done.weight, 100);
    assert.deepEqual(await weightsOf('shop'), { stable: 0, canary: 100 });
    assert.deepEqual(await probe('shop', gw.url), { canary: 50 }, 'HAProxy serves the canary only');

    const total = await traffic.stop();
    assert.equal(total.failures, 0, `no failed request over the release: ${JSON.stringify(total.errors)}`);
    assert.ok(total.counts.stable > 0 && total.counts.canary > 0, JSON.stringify(total.counts));

    const history = (await state('shop-canary')).history!;
    assert.deepEqual(stepWeights(history), [5, 25, 50, 100], JSON.stringify(history.map((h) => [h.action, h.weight])));
    assert.ok(
      history.every((h) => h.verdict.outcome !== 'fail'),
      'no failed check',
    );
    assert.ok(history.some((h) => h.action === 'paused' && h.weight === 50));
    const types = (await events('shop')).map((e) => e.type);
    assert.deepEqual(types, ['canary.started', 'canary.promoted']);
    assert.deepEqual((await events('shop', 'canary.started'))[0].value.stableWeights, { stable: 100, canary: 0 });
  });

  it('rolls back a canary failing 5 % of its requests (stable clean) after FAILURE_LIMIT failed checks, with the evidence', async (ctx) => {
    const gw = await gateway('shop-bad', { status: failingFraction(0.05) });
    load(gw.url);
    await install('shop-bad-canary', 'shop-bad', { ...PATIENT, P99_TOLERANCE_MS: 100 });

    const rolled = await waitRelease('shop-bad-canary', 'rolled back', (r) => r.phase === 'rolled_back');
    const rolledAt = Date.now();
    assert.equal(rolled.weight, 0);
    assert.equal(rolled.failures, 2, 'rolled back at the FAILURE_LIMIT-th failed check, not before nor after');
    assert.deepEqual(await weightsOf('shop-bad'), { stable: 100, canary: 0 });
    assert.deepEqual(await probe('shop-bad', gw.url), { stable: 50 }, 'HAProxy serves stable only');
    const servedStableAt = Date.now();

    // Order: started, the step to 5, failed checks (noData holds may come first), the rollback; never a step past 5.
    const history = (await state('shop-bad-canary')).history!;
    assert.deepEqual(stepWeights(history), [5]);
    assert.equal(history[0].action, 'step');
    assert.equal(history.at(-1)!.action, 'rolled_back');
    const failed = history.filter((h) => h.verdict.outcome === 'fail');
    assert.equal(failed.length, 2, JSON.stringify(history));
    for (const h of failed) {
      assert.ok(h.verdict.canary.errorRate > 0 && h.verdict.stable.errorRate === 0, JSON.stringify(h.verdict));
      // Over stable by more than MAX_ERROR_RATE_DELTA; the absolute cap (0.05) is on the edge of 5 %, latency is fine.
      const failedChecks = h.verdict.checks.filter((c) => !c.ok).map((c) => c.check);
      assert.ok(failedChecks.includes('errorRateDelta') && !failedChecks.some((c) => c.startsWith('p99')), JSON.stringify(h.verdict));
    }

    const evs = await events('shop-bad');
    assert.deepEqual(
      evs.map((e) => e.type),
      ['canary.started', 'canary.rolled_back'],
    );
    const ev = evs[1].value;
    assert.equal(ev.cause, 'failed_checks');
    assert.equal(ev.step.weight, 5);
    assert.equal(ev.verdict.stable.errorRate, 0);
    assert.ok(ev.verdict.canary.errorRate > 0.01 && ev.verdict.canary.requests >= MIN_SAMPLES, JSON.stringify(ev.verdict));
    assert.equal(ev.thresholds.maxErrorRateDelta, 0.01);
    assert.equal(ev.thresholds.maxErrorRate, 0.05);
    const veer = (await t.call('GET', '/api/v1/events?tag=gateways:shop-bad&type=gateway.rolled_back')).body.events;
    assert.equal(veer.length, 1, 'setWeights with rollback made Veer announce it too');

    // The bound: MIN_SAMPLES canary requests at weight 5, then FAILURE_LIMIT checks 1 s apart, plus a
    // tick of alignment, the agent's 200 ms log flush, a run and the runtime weight change.
    const firstBad = gw.canary.firstHitAt!;
    ctx.diagnostic(
      `failing canary: first canary request → rolled back (state) ${rolledAt - firstBad} ms, → HAProxy stable only ${servedStableAt - firstBad} ms ` +
        `(interval 1 s × FAILURE_LIMIT 2 = 2 s, + time to ${MIN_SAMPLES} canary samples + ≤ 1 s tick alignment + 0.2 s log flush + run time)`,
    );
    assert.equal((await state('shop-bad-canary')).release?.phase, 'rolled_back', 'and it stays rolled back');
  });

  it('rolls back a canary whose p99 is 3× stable on the relative check, though the absolute cap alone would pass it', async () => {
    const gw = await gateway('shop-slow', { options: { delayMs: 30 } }, { delayMs: 10 });
    load(gw.url, 4);
    await install('shop-slow-canary', 'shop-slow', PATIENT);

    const rolled = await waitRelease('shop-slow-canary', 'rolled back', (r) => r.phase === 'rolled_back');
    assert.equal(rolled.failures, 2);
    assert.deepEqual(await weightsOf('shop-slow'), { stable: 100, canary: 0 });
    const ev = (await events('shop-slow', 'canary.rolled_back'))[0].value;
    assert.equal(ev.cause, 'failed_checks');
    const checks = Object.fromEntries(ev.verdict.checks.map((c: { check: string }) => [c.check, c]));
    assert.equal(checks.p99VsStable.ok, false, JSON.stringify(ev.verdict));
    assert.equal(checks.p99.ok, true, `the absolute cap (${ev.thresholds.maxP99Ms} ms) passes: ${JSON.stringify(checks.p99)}`);
    assert.equal(checks.errorRate.ok && checks.errorRateDelta.ok, true);
    // 30 ms added, read from a histogram with ±4.5 % buckets.
    assert.ok(ev.verdict.canary.p99 >= 25 && ev.verdict.canary.p99 < ev.thresholds.maxP99Ms, JSON.stringify(ev.verdict));
    for (const h of (await state('shop-slow-canary')).history!.filter((x) => x.verdict.outcome === 'fail')) {
      assert.deepEqual(
        h.verdict.checks.filter((c) => !c.ok).map((c) => c.check),
        ['p99VsStable'],
      );
    }
    assert.deepEqual(await probe('shop-slow', gw.url), { stable: 50 });
  });

  it('an abort signal at a manual gate rolls back at once: the signal starts the run, no tick is waited for', async (ctx) => {
    const gw = await gateway('shop-abort');
    load(gw.url);
    await install('shop-abort-canary', 'shop-abort', { P99_TOLERANCE_MS: 100, STEPS: '[5, {"weight": 25, "pause": "manual"}, 100]' }, YEARLY);

    assert.equal((await calls.run('shop-abort-canary')).result.weight, 5);
    await canaryData('shop-abort');
    const gate = await calls.run('shop-abort-canary');
    assert.deepEqual([gate.result.action, gate.result.weight, gate.result.phase], ['step', 25, 'paused'], JSON.stringify(gate.result));

    const sentAt = Date.now();
    const sent = await signal('shop-abort-canary', 'abort');
    assert.ok(sent.run?.id, `the signal started a run: ${JSON.stringify(sent)}`);
    const run = await calls.finished(sent.run.id);
    const doneAt = Date.now();
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    assert.deepEqual(run.trigger, { type: 'signal', signalId: sent.signal.id, name: 'abort' });
    assert.equal(run.result.action, 'rolled_back');
    assert.deepEqual(await weightsOf('shop-abort'), { stable: 100, canary: 0 });
    assert.deepEqual(
      (await calls.runsOf('shop-abort-canary')).map((r) => r.trigger.type).sort(),
      ['manual', 'manual', 'signal'],
      'only the signal started a run besides the two manual ones',
    );
    const ev = (await events('shop-abort', 'canary.rolled_back'))[0].value;
    assert.equal(ev.cause, 'abort');
    assert.equal(ev.signal.id, sent.signal.id);
    assert.equal(ev.step.weight, 25);
    assert.ok(ev.verdict.canary && ev.verdict.stable, 'the evidence carries both routes');
    assert.deepEqual(await probe('shop-abort', gw.url), { stable: 50 });
    assert.deepEqual((await t.call('GET', '/api/v1/workflows/shop-abort-canary/signals')).body.signals, [], 'the abort was taken');
    ctx.diagnostic(`abort: signal posted → rolled back run finished in ${doneAt - sentAt} ms`);
  });

  it('holds while the canary gets no traffic, then aborts after MAX_NO_DATA checks in a row', async () => {
    const gw = await gateway('shop-idle');
    await install('shop-idle-canary', 'shop-idle', { MAX_NO_DATA: 3 });

    const rolled = await waitRelease('shop-idle-canary', 'rolled back', (r) => r.phase === 'rolled_back');
    assert.equal(rolled.noDataStreak, 3);
    const history = (await state('shop-idle-canary')).history!;
    assert.deepEqual(
      history.map((h) => [h.action, h.weight, h.verdict.outcome, h.count ?? 1]),
      [
        ['step', 5, 'skipped', 1],
        ['hold', 5, 'noData', 2],
        ['rolled_back', 0, 'noData', 1],
      ],
    );
    const ev = (await events('shop-idle', 'canary.rolled_back'))[0].value;
    assert.equal(ev.cause, 'no_data');
    assert.match(ev.reason, /MAX_NO_DATA 3/);
    assert.equal(ev.verdict.canary.noData, true);
    assert.deepEqual(await weightsOf('shop-idle'), { stable: 100, canary: 0 });
    assert.deepEqual(await probe('shop-idle', gw.url, 20), { stable: 20 });
  });

  it('a dry run at a step lists its effects and changes nothing: gateway, HAProxy, events, state, signals', async () => {
    const gw = await gateway('shop-dry');
    load(gw.url);
    // Manual runs only, so a posted signal waits in the inbox.
    await install('shop-dry-canary', 'shop-dry', { P99_TOLERANCE_MS: 100, STEPS: '[5, 25, 100]' }, null);
    assert.equal((await calls.run('shop-dry-canary')).result.weight, 5);
    await canaryData('shop-dry');

    const snapshot = async () => {
      const g = (await t.call('GET', '/api/v1/gateways/shop-dry')).body;
      const status = (await t.call('GET', '/api/v1/gateways/shop-dry/status')).body;
      const gatewayEvents = (await t.call('GET', '/api/v1/events?tag=gateways:shop-dry&limit=1000')).body.events.length;
      return {
        revision: g.revision,
        weights: await weightsOf('shop-dry'),
        served: status.revision,
        events: (await events('shop-dry')).length,
        gatewayEvents,
        state: await state('shop-dry-canary'),
      };
    };
    const dry = async () => {
      const r = await t.call('POST', '/api/v1/workflows/shop-dry-canary/runs?wait=true', { dryRun: true });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.status, 'succeeded', JSON.stringify(r.body.error));
      assert.equal(r.body.dryRun, true);
      return r.body.result as { value: any; effects: Array<{ capability: string; target: string; before: any; after: any }> };
    };
    const effect = (effects: any[], capability: string, target?: string) =>
      effects.find((e) => e.capability === capability && (target === undefined || e.target === target));

    const before = await snapshot();
    const step = await dry();
    assert.deepEqual([step.value.action, step.value.weight], ['step', 25], JSON.stringify(step.value));
    const sw = effect(step.effects, 'gateways.setWeights', 'shop-dry');
    assert.ok(sw, JSON.stringify(step.effects));
    assert.deepEqual([sw.before.stable ?? sw.before.routes?.stable?.weight, sw.after.canary ?? sw.after.routes?.canary?.weight], [95, 25], JSON.stringify(sw));
    assert.ok(effect(step.effects, 'state.set', 'release') && effect(step.effects, 'state.set', 'history'), JSON.stringify(step.effects));

    // A pending abort: the dry run shows the rollback it would make and leaves the signal where it is.
    const sent = await signal('shop-dry-canary', 'abort');
    assert.ok(!sent.run, 'no trigger: the signal only waits');
    const abort = await dry();
    assert.equal(abort.value.action, 'rolled_back');
    assert.ok(effect(abort.effects, 'signals.take'), JSON.stringify(abort.effects));
    const rb = effect(abort.effects, 'gateways.setWeights', 'shop-dry');
    assert.ok(rb && (rb.after.canary ?? rb.after.routes?.canary?.weight) === 0, JSON.stringify(rb));
    assert.ok(
      abort.effects.some((e) => e.capability === 'events.emit' && JSON.stringify(e).includes('canary.rolled_back')),
      JSON.stringify(abort.effects),
    );

    const afterDry = await snapshot();
    assert.deepEqual(afterDry, before, 'gateway revision and weights, served revision, events and state unchanged');
    const pending = (await t.call('GET', '/api/v1/workflows/shop-dry-canary/signals')).body.signals;
    assert.deepEqual(
      pending.map((s: { id: string }) => s.id),
      [sent.signal.id],
    );
    // HAProxy still splits 95 / 5 (a dry 25 % would send ~50 of 200 to the canary).
    const counts = await probe('shop-dry', gw.url, 200);
    assert.ok((counts.canary ?? 0) < 30 && counts.stable > 150, JSON.stringify(counts));
  });
});
