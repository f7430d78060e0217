import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadEventsConfig, minimumEsTailBufferMs } from '../../adapters/events/config.ts';
import { createElasticsearchEventStore } from '../../adapters/events/elasticsearch.ts';
import { dailyIndex } from '../../adapters/elasticsearch/daily-index.ts';
import { normalizeEvent } from '../../engine/domain/event.ts';
import { esTargets, type EsTarget } from '../contract/elasticsearch-targets.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * An event is stamped (`ingestedAt`) before its first attempt; its own retries can make it
 * searchable up to the append budget later. The tail's look-back must cover that, whatever
 * it is configured to: the fake clock puts the event's visibility exactly that late.
 */
for (const target of esTargets({ refreshIntervalMs: -1, doublesOnly: true }))
  describe(`late events (${target.name})`, () => {
    let es: EsTarget;
    before(async () => {
      es = await target.start();
    });
    after(async () => {
      await es.stop();
    });
    const searches = () => es.double!.requests.filter((r) => r.path.endsWith('/_search')).length;

    it('an event searchable as late as its own retries allow is still delivered, even with a short configured look-back', async () => {
      const prefix = `t-${randomUUID().slice(0, 8)}`;
      const T = Date.parse('2026-06-01T12:00:00.000Z');
      let clock = T;
      const store = createElasticsearchEventStore({ client: es.client, indexPrefix: prefix, pollMs: 5, bufferMs: 5000, now: () => clock });
      const head = await store.head();
      clock = T + 1;
      const release = es.double!.holdVisibility(dailyIndex(prefix, 'events', T));
      const late = await store.append(normalizeEvent({ tags: ['alerts'], value: 'late' }));
      const delivered: string[] = [];
      const abort = new AbortController();
      const consumer = (async () => {
        for await (const b of store.tail({ from: head, signal: abort.signal })) delivered.push(...b.events.map((e) => e.id));
      })();
      try {
        // Its write lands as late as the append budget allows (the minimum look-back less its 5 s margin).
        clock = T + 1 + minimumEsTailBufferMs() - 5000;
        const s = searches();
        await waitFor(() => searches() >= s + 2, { what: 'polls before it is visible' });
        release();
        es.double!.refresh();
        await waitFor(() => delivered.length > 0, { what: 'the late event' });
        assert.deepEqual(delivered, [late.id]);
      } finally {
        abort.abort();
        await consumer.catch(() => undefined);
        await store.close();
      }
    });
  });

describe('events config: the tail look-back', () => {
  it('is sized from the append budget, and a shorter VEER_EVENTS_ES_BUFFER_MS stops start-up naming it', () => {
    // 3 attempts × 5 s + backoff (2 s + 4 s) + 1 s refresh + 5 s margin.
    assert.equal(minimumEsTailBufferMs(), 27_000);
    assert.equal(loadEventsConfig({}).esTail.bufferMs, 30_000);
    assert.throws(
      () => loadEventsConfig({ VEER_EVENTS_ES_BUFFER_MS: '10000' }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CONFIG');
        assert.match(err.message, /VEER_EVENTS_ES_BUFFER_MS.*at least 27000 ms/);
        return true;
      },
    );
  });
});
