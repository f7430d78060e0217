import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGatewayAgent, type GatewayAgent } from '../../adapters/gateway-agent/agent.ts';
import type { HaproxyFacts } from '../../adapters/gateway-agent/agent-state.ts';
import { createHaproxyProcess, type HaproxyProcess } from '../../adapters/gateway-agent/haproxy-process.ts';
import { createGatewayService, type GatewayService } from '../../engine/gateways/service.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { freePort } from '../helpers/free-port.ts';
import { haproxyBin, haproxyWorkDir } from '../helpers/haproxy.ts';
import { startHttpBackends, type HttpBackend } from '../helpers/http-backends.ts';
import { fetchOnce, startLoad } from '../helpers/load.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { createMemoryKv } from '../gateways/memory-kv.ts';

/**
 * Fault: HAProxy is killed with SIGKILL under load (a crash, an OOM kill).
 * Load: new connections (no keep-alive) to one gateway, continuously.
 * Expectation: the agent restarts HAProxy with the last applied config within a fraction of a
 * second (bound: 2 s) instead of at its next heartbeat (up to 5 s before the fix, measured as
 * the heartbeat interval), and a HAProxy that keeps dying is restarted with growing pauses,
 * reported in the agent's status.
 */
const HEARTBEAT_MS = 5_000;
const BOUND_MS = 2_000;
const BACKOFF_MS = 400;

describe('fault: HAProxy exits under load', () => {
  let backends: HttpBackend[];
  let dir: Awaited<ReturnType<typeof haproxyWorkDir>>;
  let haproxy: HaproxyProcess;
  let agent: GatewayAgent;
  let service: GatewayService;
  let url: string;
  const status = () => agent.status().haproxy as HaproxyFacts;

  before(async () => {
    backends = await startHttpBackends(['v1']);
    dir = await haproxyWorkDir();
    const logger = silentLogger();
    const kv = createMemoryKv();
    haproxy = createHaproxyProcess({ bin: haproxyBin(), dir: dir.path, logger });
    agent = createGatewayAgent({
      kv,
      logger,
      agentId: 'exit',
      haproxy,
      render: { dir: dir.path, bindAddress: '127.0.0.1', statsPort: await freePort(), hardStopAfter: '5s' },
      heartbeatMs: HEARTBEAT_MS,
      watchdog: { minBackoffMs: BACKOFF_MS, stableMs: 30_000 },
    });
    await agent.start();
    service = createGatewayService({ kv, logger });
    const port = await freePort();
    await service.put('shop', { port, routes: { v1: { targets: [{ host: '127.0.0.1', port: backends[0]!.port }] } } });
    await waitFor(async () => (await service.status('shop')).live, { timeoutMs: 15_000, what: 'gateway live' });
    url = `http://127.0.0.1:${port}/`;
  });
  after(async () => {
    await agent?.close();
    await haproxy?.stop();
    await dir?.remove();
    await Promise.all((backends ?? []).map((b) => b.close()));
  });

  /** SIGKILLs HAProxy; returns how long until the gateway answers 200 again and the longest pause the status announced meanwhile. */
  const killAndTimeRecovery = async () => {
    const pid = (await haproxy.pid())!;
    process.kill(pid, 'SIGKILL');
    const killedAt = performance.now();
    let announced = 0;
    await waitFor(
      async () => {
        announced = Math.max(announced, status().restartPendingMs ?? 0);
        return (await fetchOnce(url)).status === 200 && (await haproxy.pid()) !== pid;
      },
      { timeoutMs: 20_000, intervalMs: 5, what: 'the gateway to serve again' },
    );
    return { ms: performance.now() - killedAt, announced };
  };

  it('restarts a killed HAProxy within 2 s, well before the next heartbeat', async (ctx) => {
    const load = startLoad({ url, concurrency: 4, keepAlive: false, maxMs: 60_000 });
    try {
      await waitFor(() => load.snapshot().requests >= 100, { what: '100 requests before the kill' });
      const { ms } = await killAndTimeRecovery();
      const at = load.snapshot().requests;
      await waitFor(() => load.snapshot().requests >= at + 100, { what: '100 requests after the restart' });
      const r = await load.stop();
      ctx.diagnostic(
        `serving again ${ms.toFixed(0)} ms after SIGKILL (heartbeat ${HEARTBEAT_MS} ms); ${r.failures} of ${r.requests} requests failed meanwhile`,
      );
      assert.ok(ms < BOUND_MS, `HAProxy served again after ${ms.toFixed(0)} ms; bound ${BOUND_MS} ms`);
      await waitFor(() => status().restarts === 1, { timeoutMs: 5_000, what: `the status to count the restart (says ${status().restarts})` });
      assert.equal(status().running, true);
      assert.equal((await fetchOnce(url)).body, 'v1', 'the restarted HAProxy serves the last applied gateway');
    } finally {
      await load.stop();
    }
  });

  it('paces the restarts of a HAProxy that keeps dying, and says so in the status', async (ctx) => {
    // Two more deaths well within `stableMs` of the last restart: a crash loop.
    const second = await killAndTimeRecovery();
    const third = await killAndTimeRecovery();
    ctx.diagnostic(
      `recovery after repeated kills: ${second.ms.toFixed(0)} ms, then ${third.ms.toFixed(0)} ms (announced pauses ${second.announced} ms, ${third.announced} ms)`,
    );
    assert.equal(second.announced, BACKOFF_MS, 'the status announced the pause before the second restart');
    assert.equal(third.announced, 2 * BACKOFF_MS, 'the pause doubles while HAProxy keeps dying');
    assert.ok(second.ms >= BACKOFF_MS && third.ms >= 2 * BACKOFF_MS, 'the restarts waited their pauses');
    assert.ok(third.ms < 2 * BACKOFF_MS + BOUND_MS, `third restart took ${third.ms.toFixed(0)} ms`);
    // HAProxy serves a moment before the watchdog's restart call returns and counts it.
    await waitFor(() => status().restarts === 3, { timeoutMs: 5_000, what: `the status to count 3 restarts (says ${status().restarts})` });
    assert.ok(status().lastExitAt, 'the status says when HAProxy last exited');
    assert.equal(status().restartPendingMs, undefined, 'no restart is pending once it serves again');
  });
});
