import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startReceiver, type Receiver } from './notifier-receiver.ts';

const ENV = { VEER_NOTIFY_ATTEMPTS: '3', VEER_NOTIFY_BACKOFF_MS: '20', VEER_NOTIFY_MAX_BACKOFF_MS: '50' };

describe('notifier delivery across engines', () => {
  let redis: TestRedis;
  const receivers: Receiver[] = [];
  const systems: TestSystem[] = [];
  const start = async (engine: boolean, env: Record<string, string>) => {
    const s = await startTestSystem({ engine, redis, env });
    systems.push(s);
    return s;
  };
  const stop = async (s: TestSystem) => {
    systems.splice(systems.indexOf(s), 1);
    await s.stop();
  };
  const post = async (s: TestSystem, value: number) => {
    const res = await s.call('POST', '/api/v1/events', { tags: ['orders'], type: 'order.placed', value });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const s of systems) await s.stop();
    for (const r of receivers) await r.close();
    await redis.stop();
  });

  it('resumes after a restart where it stopped: every event exactly once, in order', async () => {
    const r = await startReceiver();
    receivers.push(r);
    const env = { ...ENV, VEER_REDIS_PREFIX: `t${randomUUID().slice(0, 8)}` };
    const first = await start(true, env);
    // Before the notifier exists: never sent.
    await post(first, -1);
    assert.equal((await first.call('PUT', '/api/v1/notifiers/orders', { url: r.url, events: { tags: ['orders'] } })).status, 201);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await post(first, i));
    await waitFor(() => r.delivered.length === 3, { what: 'the first three' });
    await stop(first);

    // Posted while no engine runs (an API-only process).
    const api = await start(false, env);
    for (let i = 3; i < 6; i++) ids.push(await post(api, i));
    assert.equal(r.requests.length, 3, 'nothing delivers without an engine');

    const second = await start(true, env);
    ids.push(await post(second, 6));
    await waitFor(() => r.delivered.length >= 7, { what: 'the events posted while it was down, and after' });
    assert.deepEqual(
      r.delivered,
      ids.map((id) => `orders/${id}`),
    );
    assert.deepEqual(
      r.requests.map((q) => q.body.event.value),
      [0, 1, 2, 3, 4, 5, 6],
    );
  });

  it('a stop while a receiver hangs resends only the event that was in flight, with the same delivery id', async () => {
    let release!: () => void;
    const stuck = new Promise<void>((res) => (release = res));
    const r = await startReceiver(
      () => 200,
      (n) => (n === 1 ? stuck : undefined),
    );
    receivers.push(r);
    // A stop lets the request under way run to its timeout (so an answered one is never sent twice); this one never answers.
    const env = { ...ENV, VEER_NOTIFY_TIMEOUT_MS: '500', VEER_REDIS_PREFIX: `t${randomUUID().slice(0, 8)}` };
    // Posted before any engine runs, so the first engine reads them as one batch.
    const api = await start(false, env);
    assert.equal((await api.call('PUT', '/api/v1/notifiers/orders', { url: r.url, events: { tags: ['orders'] } })).status, 201);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await post(api, i));

    const first = await start(true, env);
    await waitFor(() => r.requests.length === 2, { what: 'the second event to be in flight' });
    await stop(first);
    release();

    await start(true, env);
    await waitFor(() => r.requests.length === 4, { what: 'the rest after the restart' });
    assert.deepEqual(
      r.requests.map((q) => q.headers['x-veer-delivery']),
      [ids[0], ids[1], ids[1], ids[2]].map((id) => `orders/${id}`),
    );
  });

  it('two engines on one Redis deliver each event once, and the other takes over when one stops', async () => {
    const r = await startReceiver();
    receivers.push(r);
    const env = { ...ENV, VEER_REDIS_PREFIX: `t${randomUUID().slice(0, 8)}` };
    const a = await start(true, env);
    const b = await start(true, env);
    assert.equal((await b.call('PUT', '/api/v1/notifiers/orders', { url: r.url, events: { tags: ['orders'] } })).status, 201);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await post(i % 2 ? a : b, i));
    await waitFor(() => r.delivered.length >= 10, { what: 'ten deliveries' });

    await stop(a);
    for (let i = 10; i < 13; i++) ids.push(await post(b, i));
    await waitFor(() => r.delivered.length >= 13, { timeoutMs: 30_000, what: 'deliveries after one engine stopped' });
    assert.deepEqual(
      r.delivered,
      ids.map((id) => `orders/${id}`),
    );
  });
});
