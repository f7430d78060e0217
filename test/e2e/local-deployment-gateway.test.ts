import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/free-port.ts';
import { fetchOnce, startLoad, type RunningLoad } from '../helpers/load.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { cleanup, startE2eAgent, waitLive, type E2eAgent } from './support.ts';

const fixture = fileURLToPath(new URL('../scheduler/fixtures/http-instance.mjs', import.meta.url));
const WAIT = { timeoutMs: 30_000, intervalMs: 50 };

/** The instance that answered a request: the fixture answers `{ instance, pid, greeting }`. */
const instanceOf = (body: string): string => {
  try {
    return String(JSON.parse(body).instance);
  } catch {
    return `?${body}`;
  }
};

/**
 * Local deployment (real processes run by the engine's supervisor) behind a gateway whose
 * route follows the deployment, served by the real agent and HAProxy: scaling 3 → 1 under
 * continuous load loses no request, and afterwards only the remaining instance is served.
 */
test('scaling a local deployment down behind a gateway drops no request', async () => {
  let t: TestSystem | undefined;
  let agent: E2eAgent | undefined;
  let load: RunningLoad | undefined;
  try {
    t = await startTestSystem({
      engine: true,
      env: { VEER_SCHEDULER: 'local', VEER_LOCAL_DRAIN_MS: '1500', VEER_LOCAL_HEALTH_INTERVAL_MS: '200', VEER_LOCAL_STOP_GRACE_MS: '5000' },
    });
    const sys = t;
    const def = await t.call('PUT', '/api/v1/deployments/shop-v1', {
      command: process.execPath,
      args: [fixture],
      instances: 3,
      healthCheck: '/health',
    });
    assert.ok(def.status === 200 || def.status === 202, JSON.stringify(def.body));
    const ready = await waitFor(
      async () => {
        const d = (await sys.call('GET', '/api/v1/deployments/shop-v1')).body;
        return d.readyInstances === 3 && d.status === 'ready' && d;
      },
      { ...WAIT, what: 'three ready instances' },
    );
    assert.equal(ready.endpoints.length, 3);

    // The default heartbeat (5 s, which also re-resolves deployment targets) is longer than the
    // drain: only the agent's endpoint polling (every 500 ms) can take drained instances out in time.
    agent = await startE2eAgent(t, { VEER_GATEWAY_AGENT_HEARTBEAT_MS: '5000' });
    const port = await freePort();
    const gw = await t.call('PUT', '/api/v1/gateways/shop', { port, routes: { main: { targets: { deployment: 'shop-v1', port: 'http' } } } });
    assert.ok(gw.status === 200 || gw.status === 201, JSON.stringify(gw.body));
    await waitLive(t, 'shop');
    const url = `http://127.0.0.1:${port}/`;
    await waitFor(async () => (await fetchOnce(url)).status === 200, { ...WAIT, what: 'the gateway to serve the deployment' });

    load = startLoad({ url, concurrency: 4, maxMs: 120_000 });
    const running = load;
    await waitFor(() => Object.keys(running.snapshot().counts).length === 3, { ...WAIT, what: 'traffic on all three instances' });
    assert.equal(load.snapshot().failures, 0, JSON.stringify(load.snapshot().errors));
    const { reloads, serverChanges = 0 } = agent.status().haproxy;

    const scaled = await t.call('PUT', '/api/v1/deployments/shop-v1/scale', { instances: 1 });
    assert.ok(scaled.status === 202 || scaled.status === 200, JSON.stringify(scaled.body));
    // Scale-down is done when one instance is left and the two drained processes have stopped.
    const after = await waitFor(
      async () => {
        const d = (await sys.call('GET', '/api/v1/deployments/shop-v1')).body;
        return d.status === 'ready' && d.endpoints.length === 1 && d.readyInstances === 1 && d;
      },
      { ...WAIT, what: 'one instance left' },
    );
    const gone = ready.endpoints.filter((e: { port: number }) => e.port !== after.endpoints[0].port);
    assert.equal(gone.length, 2);
    for (const e of gone) {
      await waitFor(
        async () =>
          fetchOnce(`http://127.0.0.1:${e.port}/health`).then(
            () => false,
            () => true,
          ),
        { ...WAIT, what: `drained instance on ${e.port} to stop` },
      );
    }
    const remaining = instanceOf((await fetchOnce(`http://127.0.0.1:${after.endpoints[0].port}/`)).body);

    // From now on every request goes to the remaining instance.
    const before = load.snapshot();
    await waitFor(() => running.snapshot().requests >= before.requests + 200, { ...WAIT, what: '200 more requests' });
    const total = await load.stop();
    load = undefined;

    assert.equal(total.failures, 0, `failed requests: ${JSON.stringify(total.errors)}`);
    const perInstance = (r: typeof total) => {
      const out: Record<string, number> = {};
      for (const [body, n] of Object.entries(r.counts)) out[instanceOf(body)] = (out[instanceOf(body)] ?? 0) + n;
      return out;
    };
    const was = perInstance(before);
    const now = perInstance(total);
    const grown = Object.keys(now).filter((i) => now[i] !== was[i]);
    assert.deepEqual(grown, [remaining], `after scale-down only instance ${remaining} is served (before ${JSON.stringify(was)}, after ${JSON.stringify(now)})`);
    assert.equal(Object.keys(now).length, 3, 'all three instances were served before the scale-down');
    // The two instances left HAProxy as dynamic servers: no reload.
    assert.equal(agent.status().haproxy.reloads, reloads, 'the scale-down reloaded HAProxy');
    assert.ok((agent.status().haproxy.serverChanges ?? 0) >= serverChanges + 2, `servers removed at runtime (${JSON.stringify(agent.status().haproxy)})`);
  } finally {
    await cleanup([load && (() => load!.stop()), agent?.stop, t?.stop]);
  }
});
