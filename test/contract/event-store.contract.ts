import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EventStore, TailBatch } from '../../engine/ports/event-store.ts';
import { normalizeEvent, type VeerEvent } from '../../engine/domain/event.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * The EventStore contract, run against every implementation. Queries are eventually
 * consistent (Elasticsearch shows documents after a refresh), so reads wait for the
 * expected state with a deadline.
 */
export interface EventStoreHarness {
  /** A store on a fresh namespace (key prefix / index prefix). */
  create(): Promise<EventStore>;
  /** Stops what `create` needed; called once after all tests. */
  teardown(): Promise<void>;
}

const ev = (tags: string[], type = 'event', value: unknown = null, timestamp?: string) =>
  normalizeEvent({ tags, type, value, ...(timestamp ? { timestamp } : {}) });

async function allPages(store: EventStore, q: Parameters<EventStore['query']>[0]): Promise<VeerEvent[]> {
  const out: VeerEvent[] = [];
  let cursor = q.cursor;
  for (let i = 0; i < 1000; i++) {
    const page = await store.query({ ...q, cursor });
    out.push(...page.events);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
  throw new Error('paging did not end');
}

async function collect(store: EventStore, from: string, count: number): Promise<{ events: VeerEvent[]; last: TailBatch | undefined }> {
  const abort = new AbortController();
  const events: VeerEvent[] = [];
  let last: TailBatch | undefined;
  const timer = setTimeout(() => abort.abort(), 10_000);
  try {
    for await (const batch of store.tail({ from, signal: abort.signal })) {
      events.push(...batch.events);
      last = batch;
      if (events.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return { events, last };
}

export function runEventStoreContract(name: string, harness: () => Promise<EventStoreHarness>): void {
  describe(`EventStore contract: ${name}`, () => {
    let h: EventStoreHarness;
    const stores: EventStore[] = [];
    const fresh = async () => {
      const s = await h.create();
      stores.push(s);
      return s;
    };
    before(async () => {
      h = await harness();
    });
    after(async () => {
      for (const s of stores) await s.close();
      await h?.teardown();
    });

    it('append assigns an id and keeps tags (expanded), type, value and timestamp', async () => {
      const store = await fresh();
      const stored = await store.append(ev(['deployments:shop', 'health'], 'health', { ok: 1, list: [1, 'a'] }, '2024-05-01T10:00:00.000Z'));
      assert.ok(stored.id);
      assert.deepEqual(stored.tags, ['deployments:shop', 'deployments', 'health']);
      const page = await waitFor(
        async () => {
          const p = await store.query({ tags: ['deployments'] });
          return p.events.length === 1 ? p : undefined;
        },
        { what: 'event visible to query' },
      );
      assert.deepEqual(page.events[0], {
        id: stored.id,
        tags: ['deployments:shop', 'deployments', 'health'],
        type: 'health',
        value: { ok: 1, list: [1, 'a'] },
        timestamp: '2024-05-01T10:00:00.000Z',
      });
    });

    it('filters by every tag (AND, group expansion) and by type', async () => {
      const store = await fresh();
      await store.append(ev(['gateways:shop', 'health'], 'health', 1));
      await store.append(ev(['gateways:shop', 'metrics:rate'], 'metrics', 2));
      await store.append(ev(['gateways:cart', 'health'], 'health', 3));
      await waitFor(async () => (await store.query({})).events.length === 3, { what: '3 events visible' });
      const values = async (q: Parameters<EventStore['query']>[0]) => (await allPages(store, q)).map((e) => e.value).sort();
      assert.deepEqual(await values({ tags: ['gateways'] }), [1, 2, 3]);
      assert.deepEqual(await values({ tags: ['gateways:shop'] }), [1, 2]);
      assert.deepEqual(await values({ tags: ['gateways:shop', 'health'] }), [1]);
      assert.deepEqual(await values({ tags: ['metrics'] }), [2]);
      assert.deepEqual(await values({ type: 'health' }), [1, 3]);
      assert.deepEqual(await values({ tags: ['gateways:cart'], type: 'metrics' }), []);
      assert.deepEqual(await values({ tags: ['gateways:sho'] }), [], 'tags match whole, not as prefixes');
    });

    it('pages newest first (default) or oldest first, each event exactly once', async () => {
      const store = await fresh();
      const ids: string[] = [];
      for (let i = 0; i < 23; i++) ids.push((await store.append(ev(['paging'], 'event', i))).id);
      await waitFor(async () => (await allPages(store, { limit: 1000 })).length === 23, { what: '23 events visible' });
      const desc = await allPages(store, { tags: ['paging'], limit: 5 });
      assert.deepEqual(
        desc.map((e) => e.value),
        [...Array(23).keys()].reverse(),
      );
      const asc = await allPages(store, { tags: ['paging'], limit: 7, order: 'asc' });
      assert.deepEqual(
        asc.map((e) => e.value),
        [...Array(23).keys()],
      );
      const afterTen = await allPages(store, { tags: ['paging'], order: 'asc', cursor: ids[10] });
      assert.deepEqual(
        afterTen.map((e) => e.value),
        [...Array(23).keys()].slice(11),
      );
      assert.ok(
        ids.every((id, i) => i === 0 || store.compareIds(ids[i - 1], id) < 0),
        'ids sort in append order',
      );
    });

    it('bounds queries by the event timestamp (since/until, inclusive)', async () => {
      const store = await fresh();
      const base = Date.parse('2024-01-01T00:00:00.000Z');
      for (let i = 0; i < 5; i++) await store.append(ev(['time'], 'event', i, new Date(base + i * 60_000).toISOString()));
      await waitFor(async () => (await store.query({})).events.length === 5, { what: '5 events visible' });
      const got = await allPages(store, { tags: ['time'], since: base + 60_000, until: base + 3 * 60_000 });
      assert.deepEqual(got.map((e) => e.value).sort(), [1, 2, 3]);
    });

    it('tails from head(): only later events, in append order, resumable from a checkpoint', async () => {
      const store = await fresh();
      await store.append(ev(['tail'], 'event', 'before'));
      const head = await store.head();
      for (let i = 0; i < 3; i++) await store.append(ev(['tail'], 'event', i));
      const first = await collect(store, head, 3);
      assert.deepEqual(
        first.events.map((e) => e.value),
        [0, 1, 2],
      );
      // Resume from the checkpoint after them: nothing lost, nothing repeated.
      for (let i = 3; i < 6; i++) await store.append(ev(['tail'], 'event', i));
      await store.append(ev(['tail'], 'event', 'end'));
      const rest = await collect(store, first.last!.checkpoint, 4);
      assert.deepEqual(
        rest.events.map((e) => e.value),
        [3, 4, 5, 'end'],
      );
    });

    it('a tail waits for new events and ends quietly when its signal aborts', async () => {
      const store = await fresh();
      const head = await store.head();
      const abort = new AbortController();
      const seen: unknown[] = [];
      const done = (async () => {
        for await (const b of store.tail({ from: head, signal: abort.signal })) seen.push(...b.events.map((e) => e.value));
      })();
      await store.append(ev(['live'], 'event', 'x'));
      await waitFor(() => seen.length === 1, { what: 'live event delivered' });
      abort.abort();
      await done;
      assert.deepEqual(seen, ['x']);
    });
  });
}
