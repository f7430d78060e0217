import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { EventSource } from 'eventsource';
import { Redis } from 'ioredis';
import { createRedisStreamEventStore } from '../../adapters/events/redis-streams.ts';
import type { EventStore } from '../../engine/ports/event-store.ts';
import { createApp } from '../../api/app.ts';
import { createEventRoutes } from '../../api/routes/events.ts';
import { createEventBus, type EventBus } from '../../engine/events/bus.ts';
import type { VeerEvent } from '../../engine/domain/event.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

describe('events API', () => {
  let server: TestRedis;
  let redis: Redis;
  let store: EventStore;
  let bus: EventBus;
  let app: ReturnType<typeof createApp>;
  let http: ServerType;
  let base: string;
  const sources: EventSource[] = [];

  before(async () => {
    server = await startRedis();
    redis = server.client({ maxRetriesPerRequest: 1 });
    store = createRedisStreamEventStore({ redis, prefix: `t-${randomUUID().slice(0, 8)}` });
    bus = createEventBus({ events: store, logger: silentLogger() });
    app = createApp({ logger: silentLogger(), tokens: [], routers: [createEventRoutes({ events: store, bus, heartbeatMs: 50, retryMs: 50 })] });
    http = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/v1`;
  });
  after(async () => {
    for (const s of sources) s.close();
    (http as unknown as { closeAllConnections(): void }).closeAllConnections();
    await new Promise((r) => http.close(r));
    await bus.close();
    await store.close();
    redis.disconnect();
    await server.stop();
  });

  const post = (body: unknown) =>
    app.request('/api/v1/events', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it('POST /events stores the event (201) with id, expanded tags and default type', async () => {
    // deployments:* is reserved for Veer's own events since events carry provenance; any other group works the same.
    const res = await post({ tags: 'alerts:shop', value: { v: 1 } });
    assert.equal(res.status, 201);
    const e = (await res.json()) as VeerEvent;
    assert.ok(e.id);
    assert.deepEqual(e.tags, ['alerts:shop', 'alerts']);
    assert.equal(e.type, 'event');
    assert.ok(!Number.isNaN(Date.parse(e.timestamp)));
  });

  it('POST /events answers 400 naming the bad field', async () => {
    for (const [body, field] of [
      [{ tags: [] }, 'tags'],
      [{ tags: ['a b'] }, 'tags.0'],
      [{ tags: ['x'], type: 'no spaces' }, 'type'],
      [{ tags: ['x'], timestamp: 'yesterday' }, 'timestamp'],
      [{ tags: ['x'], extra: 1 }, '(event)'],
    ] as const) {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const err = (await res.json()) as { code: string; details: { issues: Array<{ path: string }> } };
      assert.equal(err.code, 'VALIDATION');
      assert.equal(err.details.issues[0].path, field);
    }
    const notJson = await app.request('/api/v1/events', { method: 'POST', body: '{tags', headers: { 'content-type': 'application/json' } });
    assert.equal(notJson.status, 400);
  });

  it('GET /events filters by repeated tag and type, pages with a cursor', async () => {
    const ns = `q${randomUUID().slice(0, 6)}`;
    for (let i = 0; i < 5; i++) await post({ tags: [`${ns}:x`, 'health'], type: 'health', value: i });
    await post({ tags: [`${ns}:x`], type: 'metrics', value: 99 });
    const seen: unknown[] = [];
    let cursor = '';
    for (;;) {
      const res = await app.request(`/api/v1/events?tag=${ns}&tag=health&type=health&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200);
      const page = (await res.json()) as { events: VeerEvent[]; nextCursor?: string };
      seen.push(...page.events.map((e) => e.value));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    assert.deepEqual(seen, [4, 3, 2, 1, 0]);
    const bad = await app.request('/api/v1/events?limit=0');
    assert.equal(bad.status, 400);
    assert.equal((await app.request('/api/v1/events?cursor=not-an-id')).status, 400);
  });

  function listen(query: string, lastEventId?: string) {
    const got: VeerEvent[] = [];
    const es = new EventSource(`${base}/events/stream?${query}`, {
      fetch: (url, init) =>
        fetch(url, { ...init, headers: { ...init.headers, ...(lastEventId && !init.headers['Last-Event-ID'] ? { 'Last-Event-ID': lastEventId } : {}) } }),
    });
    es.onmessage = (m) => got.push(JSON.parse(m.data) as VeerEvent);
    sources.push(es);
    return { es, got, opened: new Promise<void>((r) => es.addEventListener('open', () => r(), { once: true })) };
  }

  it('streams matching events only, as SSE messages with the event id', async () => {
    const ns = `s${randomUUID().slice(0, 6)}`;
    const { es, got, opened } = listen(`tag=${ns}&type=deployed`);
    await opened;
    await post({ tags: [`${ns}:a`], type: 'deployed', value: 1 });
    await post({ tags: [`${ns}:a`], type: 'undeployed', value: 2 });
    await post({ tags: ['other'], type: 'deployed', value: 3 });
    const last = (await (await post({ tags: [`${ns}:b`], type: 'deployed', value: 4 })).json()) as VeerEvent;
    await waitFor(() => got.some((e) => e.id === last.id), { what: 'last matching event' });
    assert.deepEqual(
      got.map((e) => e.value),
      [1, 4],
    );
    es.close();
  });

  it('sends heartbeat comments', async () => {
    const abort = new AbortController();
    const res = await fetch(`${base}/events/stream?tag=quiet-${randomUUID()}`, { signal: abort.signal });
    const reader = res.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    while ((text.match(/: heartbeat/g) ?? []).length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    abort.abort();
    await reader.cancel().catch(() => undefined);
    assert.ok((text.match(/: heartbeat/g) ?? []).length >= 2);
  });

  it('resumes with Last-Event-ID: what was missed, then live, no gap, no duplicate', async () => {
    const ns = `r${randomUUID().slice(0, 6)}`;
    const first = listen(`tag=${ns}`);
    await first.opened;
    const ids: string[] = [];
    const send = async (v: number, tag = ns) => {
      const e = (await (await post({ tags: [tag], value: v })).json()) as VeerEvent;
      if (tag === ns) ids.push(e.id);
    };
    for (const v of [1, 2]) await send(v);
    await waitFor(() => first.got.length === 2, { what: 'first two events' });
    first.es.close();
    for (const v of [3, 4]) await send(v);
    await send(0, 'elsewhere');
    const second = listen(`tag=${ns}`, first.got[1].id);
    await second.opened;
    for (const v of [5, 6]) await send(v);
    await waitFor(() => second.got.length >= 4, { what: 'replayed and live events' });
    assert.deepEqual(
      second.got.map((e) => e.value),
      [3, 4, 5, 6],
    );
    assert.deepEqual(
      [...first.got, ...second.got].map((e) => e.id),
      ids,
    );
  });

  it('the client reconnects by itself after the connection drops and misses nothing', async () => {
    const ns = `d${randomUUID().slice(0, 6)}`;
    const sub = listen(`tag=${ns}`);
    await sub.opened;
    await post({ tags: [ns], value: 1 });
    await waitFor(() => sub.got.length === 1, { what: 'first event' });
    let reopened = false;
    sub.es.addEventListener('open', () => (reopened = true));
    (http as unknown as { closeAllConnections(): void }).closeAllConnections();
    await post({ tags: [ns], value: 2 });
    await post({ tags: [ns], value: 3 });
    await waitFor(() => sub.got.length >= 3 && reopened, { what: 'events after reconnect' });
    assert.deepEqual(
      sub.got.map((e) => e.value),
      [1, 2, 3],
    );
  });
});
