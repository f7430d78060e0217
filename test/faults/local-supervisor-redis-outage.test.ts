import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startLoad, type RunningLoad } from '../helpers/load.ts';
import { startPersistentRedis, type PersistentRedis } from '../helpers/redis-server.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { cleanup, startE2eAgent, type E2eAgent } from '../e2e/support.ts';
import { LOCAL_ENV, WAIT, defineReady, gatewayTo, killLeftovers, observed, servingPids } from './local-deployment-support.ts';

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
  let redis: PersistentRedis | undefined;
  let t: TestSystem | undefined;
  let agent: E2eAgent | undefined;
  let load: RunningLoad | undefined;
  let started: Array<{ pid: number; id: string }> = [];
  try {
    redis = await startPersistentRedis();
    t = await startTestSystem({ engine: true, redis, env: LOCAL_ENV });
    const sys = t;
    const prefix = t.env.VEER_REDIS_PREFIX!;
    await defineReady(t, 'shop', 2);
    agent = await startE2eAgent(t);
    const url = await gatewayTo(t, 'shop');
    const before = await servingPids(t, 'shop');
    started = (await observed(t.redisClient, prefix, 'shop'))!.instances.map((i) => ({ pid: i.pid!, id: i.id }));
    assert.deepEqual(before.answered, before.recorded);

    load = startLoad({ url, concurrency: 4, maxMs: 120_000 });
    const running = load;
    await waitFor(() => running.snapshot().requests >= 100, { ...WAIT, what: '100 requests before the outage' });

    await redis.down();
    const downAt = Date.now();
    // The fault is a timed outage; the wait also checks that traffic keeps flowing meanwhile.
    const atDown = load.snapshot().requests;
    await waitFor(() => Date.now() - downAt >= OUTAGE_MS && running.snapshot().requests > atDown + 100, {
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
        const rec = await observed(sys.redisClient, prefix, 'shop');
        return rec && Date.parse(rec.updatedAt) > upAt && (await sys.redisClient.get(`${prefix}:scheduler:supervisor`)) === rec.supervisor;
      },
      { ...WAIT, what: 'the supervisor to hold its lease and publish again' },
    );
    const atUp = load.snapshot().requests;
    await waitFor(() => running.snapshot().requests >= atUp + 400, { ...WAIT, what: '400 requests after the outage' });
    const total = await load.stop();
    load = undefined;

    const after = await servingPids(t, 'shop');
    ctx.diagnostic(
      `Redis down ${outageMs} ms (lease ${LEASE_MS} ms); ${total.requests} requests, ${total.failures} failed; pids before ${before.answered} after ${after.answered}`,
    );
    assert.deepEqual(after.answered, before.answered, 'the same instance processes serve after the outage');
    assert.deepEqual(after.recorded, before.recorded);
    assert.equal(total.failures, 0, `failed requests: ${JSON.stringify(total.errors)}`);
  } finally {
    await cleanup([load && (() => load!.stop()), agent?.stop, t?.stop, redis?.stop]);
    killLeftovers(started);
  }
});
