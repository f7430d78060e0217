import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as pause } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/free-port.ts';
import { fetchOnce, runLoad } from '../helpers/load.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';
import { cleanup, startE2eAgent, waitLive, type E2eAgent } from './support.ts';

/**
 * The built-in rollback-hook and canary-release templates, installed from GET /api/v1/templates
 * as a user would, on two local deployments (real processes) behind a real HAProxy: the canary
 * release records the stable weights and moves 30 % to the canary; two alerts posted 10 ms apart
 * start two hook runs, one after the other (event triggers queue); the first rolls back (one
 * weight change, one gateway.rolled_back naming the alert, the canary scaled to 0), the second
 * changes and emits nothing; and HAProxy then serves the stable version only.
 */

const fixture = fileURLToPath(new URL('../scheduler/fixtures/http-instance.mjs', import.meta.url));
const WAIT = { timeoutMs: 60_000, intervalMs: 50 };
// Once a year: the canary moves only when the test runs it.
const YEARLY = { cron: '0 0 0 1 1 *', timezone: 'UTC' };

/** The fixture answers `{ instance, pid, greeting }`: the greeting says which version served. */
const versionOf = (body: string): string => {
  try {
    return String(JSON.parse(body).greeting);
  } catch {
    return `?${body}`;
  }
};

test('two alerts 10 ms apart: two queued hook runs, one rollback to the weights the canary recorded, then HAProxy serves stable only', async () => {
  let t: TestSystem | undefined;
  let agent: E2eAgent | undefined;
  try {
    t = await startTestSystem({
      engine: true,
      env: { VEER_SCHEDULER: 'local', VEER_LOCAL_DRAIN_MS: '300', VEER_LOCAL_HEALTH_INTERVAL_MS: '200', VEER_LOCAL_STOP_GRACE_MS: '3000' },
    });
    const sys = t;
    const calls = workflowCalls(() => sys);
    const ok = (r: { status: number; body: unknown }, what: string) =>
      assert.ok(r.status >= 200 && r.status < 300, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
    for (const v of ['v1', 'v2']) {
      ok(
        await t.call('PUT', `/api/v1/deployments/shop-${v}`, {
          command: process.execPath,
          args: [fixture],
          env: { GREETING: v },
          instances: v === 'v1' ? 2 : 1,
          healthCheck: '/health',
        }),
        `deployment shop-${v}`,
      );
    }
    const deployment = async (name: string) => (await sys.call('GET', `/api/v1/deployments/${name}`)).body;
    await waitFor(async () => (await deployment('shop-v1')).readyInstances === 2 && (await deployment('shop-v2')).readyInstances === 1, {
      ...WAIT,
      what: 'both versions ready',
    });

    agent = await startE2eAgent(t);
    const port = await freePort();
    ok(
      await t.call('PUT', '/api/v1/gateways/shop', {
        port,
        routes: {
          stable: { weight: 100, targets: { deployment: 'shop-v1', port: 'http' } },
          canary: { weight: 0, targets: { deployment: 'shop-v2', port: 'http' } },
        },
      }),
      'gateway shop',
    );
    const url = `http://127.0.0.1:${port}/`;
    /** Real requests through HAProxy once its current revision is live: version → count. */
    const probe = async (requests = 100) => {
      await waitLive(sys, 'shop');
      const r = await runLoad({ url, requests, concurrency: 2, keepAlive: false });
      assert.equal(r.failures, 0, JSON.stringify(r.errors));
      const out: Record<string, number> = {};
      for (const [body, n] of Object.entries(r.counts)) out[versionOf(body)] = (out[versionOf(body)] ?? 0) + n;
      return out;
    };
    await waitLive(t, 'shop');
    await waitFor(async () => (await fetchOnce(url)).status === 200, { ...WAIT, what: 'the gateway to serve shop-v1' });

    // The canary release starts: it records the stable weights and moves the first step (30 %).
    const canaryTpl = (await t.call('GET', '/api/v1/templates/canary-release')).body.workflow;
    await calls.put('shop-canary', {
      ...canaryTpl,
      trigger: YEARLY,
      env: { ...canaryTpl.env, GATEWAY: 'shop', CANARY_DEPLOYMENT: 'shop-v2', RELEASE: 'v2', STEPS: '[30, 100]' },
      permissions: { gateways: ['shop'], deployments: {} },
    });
    const step = await calls.run('shop-canary');
    assert.equal(step.status, 'succeeded', JSON.stringify(step.error));
    const weights = async () => {
      const g = (await sys.call('GET', '/api/v1/gateways/shop')).body;
      return { stable: g.routes.stable.weight, canary: g.routes.canary.weight };
    };
    assert.deepEqual(await weights(), { stable: 70, canary: 30 });
    const split = await probe();
    assert.ok(split.v1 > 0 && split.v2 > 0, `both versions served at 70/30: ${JSON.stringify(split)}`);
    const [started] = (await t.call('GET', '/api/v1/events?tag=canary:shop&type=canary.started')).body.events;
    assert.deepEqual(started.value.stableWeights, { stable: 100, canary: 0 });

    // The hook, as the template has it (event trigger, default overlap: queue), trusting this canary's records.
    const hookTpl = (await t.call('GET', '/api/v1/templates/rollback-hook')).body.workflow;
    assert.equal(hookTpl.overlap, undefined, 'the template keeps the event-trigger default, queue');
    await calls.put('rollback-hook', { ...hookTpl, env: { ...hookTpl.env, CANARY_WORKFLOW: 'shop-canary' } });
    // The event dispatcher learns of new workflows asynchronously: once it starts a sentinel
    // workflow defined after the hook, it knows the hook too (it lists them all at once).
    await calls.put('sentinel', { script: 'export default async function () { return 1 }', trigger: { events: { tags: ['sentinel'] } } });
    await waitFor(
      async () => {
        if ((await calls.runsOf('sentinel')).length > 0) return true;
        ok(await sys.call('POST', '/api/v1/events', { tags: ['sentinel'] }), 'sentinel event');
        return false;
      },
      { ...WAIT, intervalMs: 200, what: 'the event dispatcher to know the hook' },
    );
    const since = new Date().toISOString();

    const post = async (summary: string) => {
      const r = await sys.call('POST', '/api/v1/events', {
        tags: ['alerts', 'alerts:shop'],
        type: 'alert',
        value: { status: 'firing', commonAnnotations: { summary } },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id as string;
    };
    const firstAlert = await post('shop canary 5xx');
    await pause(10); // the spec's 10 ms between the two alerts: input pacing, not synchronisation
    const secondAlert = await post('shop canary 5xx, still');

    const runs = await waitFor(
      async () => {
        const all = await calls.runsOf('rollback-hook');
        return all.length === 2 && all.every((r) => ['succeeded', 'failed', 'timed_out', 'cancelled'].includes(r.status)) && all;
      },
      { ...WAIT, what: 'two finished hook runs' },
    ).catch(async (err: Error) => {
      // What happened to each alert says more than the timeout.
      const seen = (await calls.runsOf('rollback-hook')).map((r) => ({ id: r.id, status: r.status, eventId: r.trigger?.eventId, startedAt: r.startedAt }));
      const triggers = (await sys.call('GET', '/api/v1/workflows/rollback-hook/triggers')).body;
      throw new Error(`${err.message}; alerts ${firstAlert}, ${secondAlert}; runs ${JSON.stringify(seen)}; triggers ${JSON.stringify(triggers)}`);
    });
    const [one, two] = [...runs].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
    for (const r of [one, two]) assert.equal(r.status, 'succeeded', JSON.stringify(r.error));
    assert.deepEqual(new Set(runs.map((r: any) => r.trigger.eventId)), new Set([firstAlert, secondAlert]), 'one run per alert');
    assert.ok(
      Date.parse(two.startedAt) >= Date.parse(one.finishedAt),
      `queued: the second started (${two.startedAt}) after the first ended (${one.finishedAt})`,
    );

    assert.equal(one.result.changed, true, JSON.stringify(one.result));
    assert.deepEqual(one.result.before, { stable: 70, canary: 30 });
    assert.deepEqual(one.result.after, { stable: 100, canary: 0 });
    assert.deepEqual(one.result.restored, { from: 'canary.started', event: started.id, release: 'v2' });
    assert.deepEqual(one.result.canaryScale, { deployment: 'shop-v2', from: 1, to: 0 });
    assert.equal(two.result.changed, false, JSON.stringify(two.result));
    assert.deepEqual(await weights(), { stable: 100, canary: 0 });

    // One weight change, one rollback event naming the alert that caused it, one scale-down; nothing from the second run.
    const events = async (tag: string, type: string) =>
      (await sys.call('GET', `/api/v1/events?tag=${tag}&type=${type}&since=${since}&limit=100`)).body.events as any[];
    const rolledBack = await events('gateways:shop', 'gateway.rolled_back');
    assert.equal(rolledBack.length, 1, JSON.stringify(rolledBack));
    assert.equal(rolledBack[0].source, 'veer');
    assert.deepEqual(
      {
        cause: rolledBack[0].value.cause,
        reason: rolledBack[0].value.reason,
        before: rolledBack[0].value.before,
        after: rolledBack[0].value.after,
        runId: rolledBack[0].value.runId,
      },
      {
        cause: one.trigger.eventId,
        reason: one.trigger.eventId === firstAlert ? 'shop canary 5xx' : 'shop canary 5xx, still',
        before: { stable: 70, canary: 30 },
        after: { stable: 100, canary: 0 },
        runId: one.id,
      },
    );
    assert.equal((await events('gateways:shop', 'gateway.weights')).length, 1);
    const scaled = await events('deployments:shop-v2', 'deployment.scaled');
    assert.equal(scaled.length, 1, JSON.stringify(scaled));
    assert.equal(scaled[0].value.after.instances, 0);
    const own = (await sys.call('GET', `/api/v1/events?tag=workflows:rollback-hook&since=${since}&limit=100`)).body.events as any[];
    assert.deepEqual(
      own.filter((e) => e.source !== 'veer'),
      [],
      'the hook emits nothing of its own',
    );

    // HAProxy serves the stable version only.
    const after = await probe(200);
    assert.deepEqual(Object.keys(after), ['v1'], JSON.stringify(after));
    await waitFor(async () => (await deployment('shop-v2')).desiredInstances === 0, { ...WAIT, what: 'the canary scaled to 0' });
  } finally {
    await cleanup([agent?.stop, t?.stop]);
  }
});
