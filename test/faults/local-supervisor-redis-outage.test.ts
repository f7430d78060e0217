import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startPersistentRedis } from '../helpers/redis-server.ts';
import { startTestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { LOCAL_ENV, WAIT, cleanUpStage, finishLoad, loadTo, newStage, observed, serveShop } from './local-deployment-support.ts';

/**
 * Fault: Redis (with AOF, as deployed) stopped for longer than the local supervisor's lease
 * (10 s), so the lease key has expired when it comes back.
 * Load: continuous requests through the real gateway agent and HAProxy to a local deployment
 * of two instances run by the engine's supervisor.
 * Expectation: the instances keep running through the outage and after it (same pids), and
 * not one request fails. Before the fix the supervisor took the expired key for "another
 * process has the lease" and stopped every instance when Redis returned (196 × 503 in 3.9 s).
 */
const LEASE_MS = 10_000;
// The lease was last renewed at most a third of its TTL before the stop: past this it has surely expired.
const OUTAGE_MS = LEASE_MS + 1_000;

test('a Redis outage longer than the supervisor lease restarts no local instance and fails no request', async (ctx) => {
  const stage = newStage();
  try {
    const redis = await startPersistentRedis();
    stage.redis = redis;
    const t = await startTestSystem({ engine: true, redis, env: LOCAL_ENV });
    stage.t = t;
    const prefix = t.env.VEER_REDIS_PREFIX!;
    const { url, before } = await serveShop(stage, t);
    assert.deepEqual(before.answered, before.recorded);
    const load = await loadTo(stage, url, '100 requests before the outage');

    await redis.down();
    const downAt = Date.now();
    // The fault is a timed outage; the wait also checks that traffic keeps flowing meanwhile.
    const atDown = load.snapshot().requests;
    await waitFor(() => Date.now() - downAt >= OUTAGE_MS && load.snapshot().requests > atDown + 100, {
      timeoutMs: OUTAGE_MS + 10_000,
      intervalMs: 100,
      what: `an outage of ${OUTAGE_MS} ms with traffic flowing`,
    });
    const outageMs = Date.now() - downAt;
    await redis.up();

    // Back: the supervisor holds the lease again and publishes its instances.
    const upAt = Date.now();
    await waitFor(
      async () => {
        const rec = await observed(t.redisClient, prefix, 'shop');
        return rec && Date.parse(rec.updatedAt) > upAt && (await t.redisClient.get(`{${prefix}:scheduler}:supervisor`)) === rec.supervisor;
      },
      { ...WAIT, what: 'the supervisor to hold its lease and publish again' },
    );
    const { total, after } = await finishLoad(stage, t, load, '400 requests after the outage');
    ctx.diagnostic(
      `Redis down ${outageMs} ms (lease ${LEASE_MS} ms); ${total.requests} requests, ${total.failures} failed; pids before ${before.answered} after ${after.answered}`,
    );
    assert.deepEqual(after.answered, before.answered, 'the same instance processes serve after the outage');
    assert.deepEqual(after.recorded, before.recorded);
    assert.equal(total.failures, 0, `failed requests: ${JSON.stringify(total.errors)}`);
  } finally {
    await cleanUpStage(stage);
  }
});
