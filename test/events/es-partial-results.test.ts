import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createElasticsearchDocumentSearch, createElasticsearchEventStore } from '../../adapters/events/elasticsearch.ts';
import { dailyIndex } from '../../adapters/elasticsearch/daily-index.ts';
import { createRedisCoordinationOn } from '../../adapters/redis/index.ts';
import { normalizeEvent } from '../../engine/domain/event.ts';
import { createElasticsearchQueryTriggers } from '../../engine/events/es-query-trigger.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { delay } from '../../engine/shared/wait.ts';
import { esTargets, type EsTarget } from '../contract/elasticsearch-targets.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { createFakeLauncher, workflow, workflowList } from './fakes.ts';

/**
 * Searches answer 200 with partial results while shards fail. Neither the event tail nor a
 * query trigger may move its checkpoint past such an answer: with a fake clock, the shards
 * fail for longer than the look-back, and the event must still be delivered once they heal.
 */
for (const target of esTargets({ refreshIntervalMs: -1, doublesOnly: true }))
  describe(`partial search results (${target.name})`, () => {
    let es: EsTarget;
    let redisServer: TestRedis;
    let redis: Redis;
    before(async () => {
      es = await target.start();
      redisServer = await startRedis();
      redis = redisServer.client({ maxRetriesPerRequest: 1 });
    });
    after(async () => {
      redis.disconnect();
      await redisServer.stop();
      await es.stop();
    });
    const searches = (index: string) => es.double!.requests.filter((r) => r.method !== 'HEAD' && r.path === `/${index}/_search`).length;

    it('the event tail never advances past a partial answer: an event behind failing shards is delivered once they heal', async () => {
      const prefix = `t-${randomUUID().slice(0, 8)}`;
      const T = Date.parse('2026-06-01T12:00:00.000Z');
      let clock = T;
      const store = createElasticsearchEventStore({ client: es.client, indexPrefix: prefix, pollMs: 5, now: () => clock });
      const head = await store.head();
      clock = T + 1;
      const event = await store.append(normalizeEvent({ tags: ['alerts'], value: 'behind a failing shard' }));
      // Yesterday's index answers; today's shard (holding the event) fails: a 200 with _shards.failed = 1.
      await es.admin.indices.create({ index: dailyIndex(prefix, 'events', T - 86_400_000) });
      es.double!.refresh();
      const heal = es.double!.failShards({ index: dailyIndex(prefix, 'events', T), times: Number.MAX_SAFE_INTEGER });

      const delivered: string[] = [];
      const failures: string[] = [];
      const abort = new AbortController();
      // A consumer like the bus and the dispatcher: on an error, resume from the last checkpoint.
      const consumer = (async () => {
        let from = head;
        while (!abort.signal.aborted) {
          try {
            for await (const b of store.tail({ from, signal: abort.signal })) {
              delivered.push(...b.events.map((e) => e.id));
              from = b.checkpoint;
            }
          } catch (err) {
            failures.push((err as { code?: string }).code ?? String(err));
            await delay(5, abort.signal).catch(() => undefined);
          }
        }
      })();
      try {
        const pattern = `${prefix}-events-*`;
        const s0 = searches(pattern);
        await waitFor(() => searches(pattern) >= s0 + 2, { what: 'partial polls at the event time' });
        // Shards still failing well past the look-back: a tail that moved on would never look back this far.
        clock = T + 120_000;
        const s1 = searches(pattern);
        await waitFor(() => searches(pattern) >= s1 + 2, { what: 'partial polls after the look-back' });
        heal();
        await waitFor(() => delivered.length > 0, { what: 'the event, once the shards heal' });
        const s2 = searches(pattern);
        await waitFor(() => searches(pattern) >= s2 + 3, { what: 'three more polls' });
        assert.deepEqual(delivered, [event.id], 'delivered once');
        assert.ok(failures.length > 0 && failures.every((c) => c === 'EVENTS.UNAVAILABLE'), `partial answers surfaced as EVENTS.UNAVAILABLE: ${failures}`);
      } finally {
        abort.abort();
        await consumer;
        await store.close();
      }
    });

    it('a query trigger keeps its checkpoint while results are partial, and delivers the hidden document after', async () => {
      const prefix = `t-${randomUUID().slice(0, 8)}`;
      const index = `logs-${randomUUID().slice(0, 6)}`;
      let clock = Date.now();
      const launcher = createFakeLauncher();
      const wf = workflow('on-errors', { trigger: { elasticsearch: { index: `${index}-*`, query: { range: { status: { gte: 500 } } }, every: '50ms' } } });
      const { coordination, triggers: state, close } = createRedisCoordinationOn(redis, prefix);
      const triggers = createElasticsearchQueryTriggers({
        coordination,
        triggers: state,
        search: createElasticsearchDocumentSearch({ client: es.client }),
        workflows: workflowList([wf]),
        launcher,
        logger: silentLogger(),
        tickMs: 5,
        bufferMs: 1000,
        now: () => clock,
      });
      const pattern = `${index}-*`;
      await triggers.start();
      try {
        const floor = await waitFor(async () => (await state.esQuery.checkpoint('on-errors'))?.floor, { what: 'the first poll' });
        const at = new Date(floor + 1).toISOString();
        await es.admin.index({ index: `${index}-a`, document: { '@timestamp': at, status: 500 }, refresh: true });
        await es.admin.index({ index: `${index}-b`, document: { '@timestamp': at, status: 200 }, refresh: true });
        // An index of the pattern without the timestamp field: sorting on it must not fail that shard (unmapped_type).
        await es.admin.indices.create({ index: `${index}-empty` });
        const heal = es.double!.failShards({ index: `${index}-a`, times: Number.MAX_SAFE_INTEGER });
        // The clock only moves here, so each step is exactly one poll.
        for (const step of [100, 10_000]) {
          const s = searches(pattern);
          clock += step;
          await waitFor(() => searches(pattern) > s, { what: `a partial poll ${step} ms on` });
        }
        heal();
        clock += 100;
        await waitFor(() => launcher.started.length === 1, { what: 'the hidden document, once its shard heals' });
        assert.equal((launcher.started[0].options.input as { documents: Array<{ status: number }> }).documents[0].status, 500);
      } finally {
        await triggers.stop();
        await close();
      }
    });
  });
