import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startEngineProcess } from '../helpers/engine-process.ts';
import { startLoad, type RunningLoad } from '../helpers/load.ts';
import type { ServiceProcess } from '../helpers/process.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { cleanup, startE2eAgent, type E2eAgent } from '../e2e/support.ts';
import { LOCAL_ENV, WAIT, defineReady, gatewayTo, killLeftovers, observed, parentOf, servingPids } from './local-deployment-support.ts';

/**
 * Fault: the engine whose supervisor runs the local deployments is SIGKILLed; a second
 * engine on the same Redis stands by.
 * Load: continuous requests through the real gateway agent and HAProxy to the deployment's
 * two instances.
 * Expectation: the standby takes the lease (about one lease TTL later) and adopts the
 * instances, which never stopped serving: same pids, not one failed request. Before, the
 * successor stopped the orphans and started new ones: a burst of 503s.
 */
const LEASE_MS = 10_000;

test('SIGKILL of the engine running local deployments: the standby adopts the instances and no request fails', async (ctx) => {
  let t: TestSystem | undefined;
  let agent: E2eAgent | undefined;
  let load: RunningLoad | undefined;
  const engines: ServiceProcess[] = [];
  let started: Array<{ pid: number; id: string }> = [];
  try {
    t = await startTestSystem({ engine: false, env: LOCAL_ENV });
    const sys = t;
    const prefix = t.env.VEER_REDIS_PREFIX!;
    for (let i = 0; i < 2; i++) engines.push(startEngineProcess({ ...t.env }));
    await waitFor(
      async () => {
        const live = (await sys.system.redis.coordination.engines.list()).map((e) => e.pid);
        for (const e of engines) e.assertRunning();
        return engines.every((e) => live.includes(e.child.pid!));
      },
      { ...WAIT, what: 'two engines heart-beating' },
    );
    await defineReady(t, 'shop', 2);
    agent = await startE2eAgent(t);
    const url = await gatewayTo(t, 'shop');
    const before = await servingPids(t, 'shop');
    const record = (await observed(t.redisClient, prefix, 'shop'))!;
    started = record.instances.map((i) => ({ pid: i.pid!, id: i.id }));
    const leader = engines.find((e) => e.child.pid === parentOf(before.answered[0]!));
    assert.ok(leader, 'one of the two engines runs the instances');

    load = startLoad({ url, concurrency: 4, maxMs: 120_000 });
    const running = load;
    await waitFor(() => running.snapshot().requests >= 100, { ...WAIT, what: '100 requests before the kill' });

    const failedBeforeKill = load.snapshot().failures;
    await leader.stop('SIGKILL');
    const killedAt = Date.now();
    const rec = await waitFor(
      async () => {
        const r = await observed(sys.redisClient, prefix, 'shop');
        return r && r.supervisor !== record.supervisor && r.instances.every((i) => i.ready) && r;
      },
      { timeoutMs: LEASE_MS + 20_000, intervalMs: 50, what: 'the standby supervisor to publish the deployment' },
    );
    const takeoverMs = Date.now() - killedAt;
    const failedAtTakeover = load.snapshot().failures;
    const atTakeover = load.snapshot().requests;
    await waitFor(() => running.snapshot().requests >= atTakeover + 400, { ...WAIT, what: '400 requests after the takeover' });
    const total = await load.stop();
    load = undefined;

    const after = await servingPids(t, 'shop');
    ctx.diagnostic(
      `takeover ${takeoverMs} ms after SIGKILL (lease ${LEASE_MS} ms); ${total.requests} requests, ${total.failures} failed (${failedBeforeKill} before the kill, ${failedAtTakeover - failedBeforeKill} until the takeover); pids before ${before.answered} after ${after.answered}`,
    );
    assert.deepEqual(rec.instances.map((i) => i.id).sort(), record.instances.map((i) => i.id).sort(), 'the successor lists the same instances');
    assert.deepEqual(after.answered, before.answered, 'the same instance processes serve after the failover');
    assert.equal(total.failures, 0, `failed requests: ${JSON.stringify(total.errors)}`);
  } finally {
    await cleanup([load && (() => load!.stop()), agent?.stop, ...engines.map((e) => () => e.stop()), t?.stop]);
    killLeftovers(started);
  }
});
