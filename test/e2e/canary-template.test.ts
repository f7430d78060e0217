import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/free-port.ts';
import { runLoad, startLoad, type RunningLoad } from '../helpers/load.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startHttpBackend, type HttpBackend } from '../helpers/http-backends.ts';
import { cleanup, startE2eAgent, waitLive, type E2eAgent } from './support.ts';

const WAIT = { timeoutMs: 30_000, intervalMs: 50 };
const MIN_SAMPLES = 5;
const FAILURES = 2;

interface Result {
  action: string;
  weight?: number;
  failures?: number;
  samples?: number;
  phase?: string;
}

/**
 * The built-in canary-release template, installed through the API as a user would, against a
 * real HAProxy gateway fed by real traffic: a healthy canary is promoted to 100, an always-500
 * canary is rolled back to stable after FAILURES unhealthy checks, and no traffic means hold.
 * Runs are started manually (no cron), one at a time.
 */
describe('canary-release template on a real gateway', () => {
  let t: TestSystem;
  let agent: E2eAgent | undefined;
  const backends: HttpBackend[] = [];
  const loads: RunningLoad[] = [];
  const ok = (r: { status: number; body: unknown }) => assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));

  before(async () => {
    t = await startTestSystem({ engine: true });
    agent = await startE2eAgent(t);
  });
  after(async () => {
    await cleanup([...loads.map((l) => () => l.stop()), agent?.stop, ...backends.map((b) => b.close), t?.stop]);
  });

  /** Gateway `name` with a stable and a canary route to fresh backends; returns its port. */
  async function gateway(name: string, canaryStatus: number, weights: { stable: number; canary: number }) {
    const stable = await startHttpBackend('stable', () => 200);
    const canary = await startHttpBackend('canary', () => canaryStatus);
    backends.push(stable, canary);
    const port = await freePort();
    ok(
      await t.call('PUT', `/api/v1/gateways/${name}`, {
        port,
        routes: {
          stable: { weight: weights.stable, targets: [{ host: '127.0.0.1', port: stable.port }] },
          canary: { weight: weights.canary, targets: [{ host: '127.0.0.1', port: canary.port }] },
        },
      }),
    );
    await waitLive(t, name);
    return { port, url: `http://127.0.0.1:${port}/`, stable, canary };
  }

  /** Installs the template for `gateway` as workflow `name`, manual runs only. */
  async function install(name: string, gw: string) {
    const tpl = await t.call('GET', '/api/v1/templates/canary-release');
    assert.equal(tpl.status, 200);
    const { trigger: _cron, ...workflow } = tpl.body.workflow;
    ok(
      await t.call('PUT', `/api/v1/workflows/${name}`, {
        ...workflow,
        // MAX_P99_MS out of reach: these tests judge error rates, not loopback timings under CI load.
        env: { ...workflow.env, GATEWAY: gw, MIN_SAMPLES, WINDOW: '1m', FAILURES, MAX_P99_MS: 60_000 },
        permissions: { ...workflow.permissions, gateways: [gw] },
      }),
    );
  }

  async function runOnce(name: string): Promise<Result> {
    const r = await t.call('POST', `/api/v1/workflows/${name}/runs?wait=true`, {});
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.status, 'succeeded', JSON.stringify(r.body.error));
    return r.body.result as Result;
  }

  const canaryRequests = async (gw: string) => (await t.call('GET', `/api/v1/gateways/${gw}/metrics?window=1m&route=canary`)).body.requests as number;
  /** Waits until the metrics store has MIN_SAMPLES canary requests more than `since`. */
  const freshCanaryData = (gw: string, since: number) =>
    waitFor(async () => (await canaryRequests(gw)) >= since + MIN_SAMPLES, { ...WAIT, what: `${MIN_SAMPLES} more canary requests in the metrics of ${gw}` });
  const weightsOf = async (gw: string) => {
    const g = (await t.call('GET', `/api/v1/gateways/${gw}`)).body;
    return { stable: g.routes.stable.weight, canary: g.routes.canary.weight };
  };

  it('promotes a healthy canary step by step to 100 while traffic flows', async () => {
    const gw = await gateway('shop', 200, { stable: 100, canary: 0 });
    await install('shop-canary', 'shop');
    const load = startLoad({ url: gw.url, concurrency: 2, maxMs: 120_000 });
    loads.push(load);

    const results: Result[] = [];
    for (let i = 0; i < 30 && results.at(-1)?.action !== 'promoted'; i++) {
      if (i > 0) await freshCanaryData('shop', await canaryRequests('shop'));
      results.push(await runOnce('shop-canary'));
    }
    const last = results.at(-1)!;
    assert.equal(last.action, 'promoted', JSON.stringify(results));
    assert.equal(last.weight, 100);
    assert.ok(
      results.every((r) => ['step', 'promoted'].includes(r.action)),
      `only steps, then promoted: ${JSON.stringify(results)}`,
    );
    const stepped = results.map((r) => r.weight);
    assert.deepEqual(stepped, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    assert.deepEqual(await weightsOf('shop'), { stable: 0, canary: 100 });

    // HAProxy follows (a weight change is applied at runtime) and nothing failed on the way.
    await waitLive(t, 'shop');
    const canaryBefore = gw.canary.hits;
    const stableBefore = gw.stable.hits;
    const probe = await runLoad({ url: gw.url, requests: 50, concurrency: 1, keepAlive: false });
    assert.equal(probe.counts.canary, 50, JSON.stringify(probe.counts));
    assert.equal(gw.canary.hits - canaryBefore >= 50, true);
    const total = await load.stop();
    assert.equal(total.failures, 0, JSON.stringify(total.errors));
    assert.ok(gw.stable.hits >= stableBefore);

    // A finished release does nothing more; the promotion is an event.
    assert.equal((await runOnce('shop-canary')).action, 'none');
    const events = await t.call('GET', '/api/v1/events?tag=canary&type=canary.promoted');
    assert.equal(events.body.events.length, 1, JSON.stringify(events.body));
  });

  it(`rolls an always-500 canary back to stable 100 after ${FAILURES} unhealthy checks`, async () => {
    const gw = await gateway('shop-bad', 500, { stable: 100, canary: 0 });
    await install('shop-bad-canary', 'shop-bad');
    const load = startLoad({ url: gw.url, concurrency: 2, maxMs: 120_000 });
    loads.push(load);

    const results: Result[] = [];
    results.push(await runOnce('shop-bad-canary'));
    assert.deepEqual(results[0], { action: 'step', weight: 10, errorRate: null, p99: null }, 'first step: no canary traffic yet at weight 0');
    for (let i = 1; i < 10 && results.at(-1)?.action !== 'rollback'; i++) {
      await freshCanaryData('shop-bad', await canaryRequests('shop-bad'));
      results.push(await runOnce('shop-bad-canary'));
    }
    assert.deepEqual(
      results.slice(1),
      [...Array.from({ length: FAILURES - 1 }, (_, k) => ({ action: 'hold', weight: 10, failures: k + 1 })), { action: 'rollback', weight: 0 }],
      JSON.stringify(results),
    );
    assert.deepEqual(await weightsOf('shop-bad'), { stable: 100, canary: 0 });

    // Traffic is back on stable only.
    await waitLive(t, 'shop-bad');
    const probe = await runLoad({ url: gw.url, requests: 50, concurrency: 1, keepAlive: false });
    assert.deepEqual(probe.counts, { stable: 50 });
    assert.equal(probe.failures, 0);
    await load.stop();
    assert.equal((await runOnce('shop-bad-canary')).action, 'none', 'rolled back stays rolled back');
    const events = await t.call('GET', '/api/v1/events?tag=canary:shop-bad&type=canary.rolled_back');
    assert.equal(events.body.events.length, 1, JSON.stringify(events.body));
  });

  it('holds (noData) when there is no traffic at all', async () => {
    await gateway('shop-idle', 200, { stable: 90, canary: 10 });
    await install('shop-idle-canary', 'shop-idle');
    const r = await runOnce('shop-idle-canary');
    assert.deepEqual(r, { action: 'hold', weight: 10, samples: 0 });
    assert.deepEqual(await weightsOf('shop-idle'), { stable: 90, canary: 10 }, 'weights untouched');
    const m = (await t.call('GET', '/api/v1/gateways/shop-idle/metrics?window=1m&route=canary')).body;
    assert.equal(m.noData, true);
  });
});
