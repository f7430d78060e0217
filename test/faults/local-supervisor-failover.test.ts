import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../helpers/wait-for.ts';
import { WAIT, cleanUpStage, finishLoad, newStage, observed, twoEnginesServingShop } from './local-deployment-support.ts';

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

test('SIGKILL of the engine running local deployments: the standby adopts the instances and traffic goes on', async (ctx) => {
  const stage = newStage();
  try {
    const { t, prefix, before, record, leader, load } = await twoEnginesServingShop(stage, 'heartbeats', '100 requests before the kill');

    const failedBeforeKill = load.snapshot().failures;
    await leader.stop('SIGKILL');
    const killedAt = Date.now();
    const rec = await waitFor(
      async () => {
        const r = await observed(t.redisClient, prefix, 'shop');
        return r && r.supervisor !== record.supervisor && r.instances.every((i) => i.ready) && r;
      },
      { timeoutMs: LEASE_MS + 20_000, intervalMs: 50, what: 'the standby supervisor to publish the deployment' },
    );
    const takeoverMs = Date.now() - killedAt;
    const failedAtTakeover = load.snapshot().failures;
    // Traffic recovers: 200 requests in a row succeed after the takeover.
    let mark = load.snapshot();
    await waitFor(
      () => {
        const now = load.snapshot();
        if (now.failures !== mark.failures) mark = now;
        return now.requests - mark.requests >= 200;
      },
      { ...WAIT, what: '200 requests in a row without a failure after the takeover' },
    );
    const { total, after } = await finishLoad(stage, t, load, '400 requests after the takeover');
    ctx.diagnostic(
      `takeover ${takeoverMs} ms after SIGKILL (lease ${LEASE_MS} ms); ${total.requests} requests, ${total.failures} failed (${failedBeforeKill} before the kill, ${failedAtTakeover - failedBeforeKill} until the takeover); pids before ${before.answered} after ${after.answered}`,
    );
    assert.deepEqual(rec.instances.map((i) => i.id).sort(), record.instances.map((i) => i.id).sort(), 'the successor lists the same instances');
    assert.deepEqual(after.answered, before.answered, 'the same instance processes serve after the failover');
    assert.equal(failedBeforeKill, 0, 'nothing failed before the kill');
    // Most runs fail no request at all; about one in ten (more under CPU load) sees a burst of
    // HAProxy 503s around the takeover with the same processes serving, cause not yet found
    // (README, local deployments). The figure is in the diagnostic above.
  } finally {
    await cleanUpStage(stage);
  }
});
