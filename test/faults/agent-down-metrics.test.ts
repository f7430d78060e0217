import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startGatewayAgentProcess, type RunningGatewayAgent } from '../../adapters/gateway-agent/main.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { freePort } from '../helpers/free-port.ts';
import { haproxyWorkDir } from '../helpers/haproxy.ts';
import { startHttpBackends, type HttpBackend } from '../helpers/http-backends.ts';
import { runLoad } from '../helpers/load.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { cleanup, waitLive } from '../e2e/support.ts';

/**
 * Fault: the gateway agent is stopped (HAProxy is left serving, VEER_GATEWAY_AGENT_STOP_HAPROXY=false)
 * and started again later: nobody receives HAProxy's UDP traffic log in between.
 * Load: a fixed number of requests before, during and after the agent's absence.
 * Expectation: the gateway metrics count every request, including those served while the agent
 * was down (read back from HAProxy's log ring on start) — and none twice. Before the fix the
 * requests served meanwhile were missing from the metrics.
 */
const BEFORE = 300;
const DURING = 500;
const AFTER = 200;

test('requests HAProxy served while the agent was down are in the gateway metrics after it restarts, once', async (ctx) => {
  let t: TestSystem | undefined;
  let backends: HttpBackend[] = [];
  let agent: RunningGatewayAgent | undefined;
  const dir = await haproxyWorkDir();
  try {
    t = await startTestSystem({ engine: false });
    const sys = t;
    backends = await startHttpBackends(['v1']);
    const statsPort = await freePort();
    const start = () =>
      startGatewayAgentProcess(
        {
          ...sys.env,
          VEER_GATEWAY_AGENT_ID: 'down',
          VEER_GATEWAY_AGENT_DIR: dir.path,
          VEER_GATEWAY_AGENT_STATS_PORT: String(statsPort),
          VEER_GATEWAY_AGENT_STOP_HAPROXY: 'false',
        },
        silentLogger(),
      );
    agent = await start();
    const port = await freePort();
    const gw = await t.call('PUT', '/api/v1/gateways/shop', { port, routes: { main: { targets: [{ host: '127.0.0.1', port: backends[0]!.port }] } } });
    assert.ok(gw.status === 200 || gw.status === 201, JSON.stringify(gw.body));
    await waitLive(t, 'shop');
    const url = `http://127.0.0.1:${port}/`;
    const counted = async () => (await sys.call('GET', '/api/v1/gateways/shop/metrics?window=10m&minSamples=1')).body.requests as number;
    const waitCounted = (n: number, what: string) =>
      waitFor(async () => (await counted()) >= n, { timeoutMs: 20_000, intervalMs: 100, what: `${n} requests in the metrics (${what})` });

    const sent = async (n: number) => {
      const r = await runLoad({ url, requests: n, concurrency: 4 });
      assert.equal(r.failures, 0, JSON.stringify(r.errors));
    };
    await sent(BEFORE);
    await waitCounted(BEFORE, 'agent up');

    await agent.stop();
    agent = undefined;
    await sent(DURING);
    agent = await start();
    await sent(AFTER);
    await waitCounted(BEFORE + DURING + AFTER, 'after the restart');
    // Settled: nothing more arrives (no line counted twice).
    await agent.stop();
    agent = undefined;
    const total = await counted();
    ctx.diagnostic(`sent ${BEFORE} + ${DURING} (agent down) + ${AFTER}; metrics count ${total}`);
    assert.equal(total, BEFORE + DURING + AFTER);
  } finally {
    await cleanup([agent && (() => agent!.stop()), dir.remove, ...backends.map((b) => () => b.close()), t?.stop]);
  }
});
