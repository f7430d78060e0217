import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { Redis } from 'ioredis';
import { createRedisStreamEventStore } from '../../adapters/events/redis-streams.ts';
import { createRemoteEventSource } from '../../adapters/events/remote-sse.ts';
import { createApp } from '../../api/app.ts';
import { createEventRoutes } from '../../api/routes/events.ts';
import { createEventBus, type EventBus } from '../../engine/events/bus.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { createRedisCoordinationOn } from '../../adapters/redis/index.ts';

describe('remote event source (another installation over SSE)', () => {
  let server: TestRedis;
  let redis: Redis;
  let remote: EventBus;
  let local: EventBus;
  let http: ServerType;
  let url: string;

  before(async () => {
    server = await startRedis();
    redis = server.client({ maxRetriesPerRequest: 1 });
    remote = createEventBus({ events: createRedisStreamEventStore({ redis, prefix: `a-${randomUUID().slice(0, 6)}` }), logger: silentLogger() });
    local = createEventBus({ events: createRedisStreamEventStore({ redis, prefix: `b-${randomUUID().slice(0, 6)}` }), logger: silentLogger() });
    const app = createApp({ logger: silentLogger(), tokens: ['secret'], routers: [createEventRoutes({ events: remote.store, bus: remote, retryMs: 50 })] });
    http = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/v1/events/stream?tag=deployments`;
  });
  after(async () => {
    (http as unknown as { closeAllConnections(): void }).closeAllConnections();
    await new Promise((r) => http.close(r));
    await remote.close();
    await local.close();
    redis.disconnect();
    await server.stop();
  });

  const localValues = async () => (await local.store.query({ tags: ['remote:cluster-a'], order: 'asc', limit: 100 })).events.map((e) => e.value);

  it('re-publishes remote events locally with a source tag and resumes after a restart without duplicates', async () => {
    const mk = () =>
      createRemoteEventSource({
        url,
        token: 'secret',
        emit: (e) => local.emit(e),
        positions: createRedisCoordinationOn(redis, 'b').triggers.remote,
        logger: silentLogger(),
        label: 'cluster-a',
      });
    const first = mk();
    await first.start();
    // The stream only delivers what is appended once the client is connected.
    await waitFor(
      async () => {
        await remote.emit({ tags: ['deployments:probe'], value: 'probe' });
        return (await localValues()).length > 0;
      },
      { what: 'connected', intervalMs: 50 },
    );
    await remote.emit({ tags: ['deployments:shop'], type: 'deployed', value: 1 });
    await remote.emit({ tags: ['gateways:shop'], value: 'not subscribed' });
    await remote.emit({ tags: ['deployments:x', 'remote:elsewhere'], value: 'already remote' });
    await remote.emit({ tags: ['deployments:shop'], value: 2 });
    await waitFor(async () => (await localValues()).includes(2), { what: 'second event' });
    await first.stop();

    await remote.emit({ tags: ['deployments:shop'], value: 3 });
    await remote.emit({ tags: ['deployments:shop'], value: 4 });
    const second = mk();
    await second.start();
    await waitFor(async () => (await localValues()).includes(4), { what: 'events missed while stopped' });
    await second.stop();
    const values = (await localValues()).filter((v) => v !== 'probe');
    assert.deepEqual(values, [1, 2, 3, 4]);
    const e = (await local.store.query({ tags: ['remote:cluster-a'], limit: 1 })).events[0];
    assert.deepEqual(e.tags, ['deployments:shop', 'deployments', 'remote:cluster-a', 'remote']);
  });
});
