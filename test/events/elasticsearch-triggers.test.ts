import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createElasticsearchDocumentSearch, createElasticsearchEventStore } from '../../adapters/events/elasticsearch.ts';
import { createEventBus } from '../../engine/events/bus.ts';
import { createElasticsearchQueryTriggers, type ElasticsearchQueryTriggers } from '../../engine/events/es-query-trigger.ts';
import { createEventTriggerDispatcher, type EventTriggerDispatcher } from '../../engine/events/trigger-dispatcher.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { esTargets, type EsTarget } from '../contract/elasticsearch-targets.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { createFakeLauncher, workflow, workflowList } from './fakes.ts';
import { createRedisCoordinationOn } from '../../adapters/redis/index.ts';
import { createKeys } from '../../adapters/redis/keys.ts';

for (const target of esTargets({ refreshIntervalMs: 50, doublesOnly: true }))
  describe(`triggers fed by ${target.name}`, () => {
    let redisServer: TestRedis;
    let es: EsTarget;
    const redisClients: Redis[] = [];
    const stoppers: Array<{ stop(): Promise<void> }> = [];

    before(async () => {
      redisServer = await startRedis();
      es = await target.start();
    });
    after(async () => {
      for (const s of stoppers) await s.stop();
      for (const r of redisClients) r.disconnect();
      await es.stop();
      await redisServer.stop();
    });

    const redis = () => {
      const r = redisServer.client({ maxRetriesPerRequest: 1 });
      redisClients.push(r);
      return r;
    };
    const searches = () => es.double?.requests.filter((r) => r.path.endsWith('/_search')).length ?? 0;

    it('an event that becomes visible late starts its workflow exactly once, also across a restart', async () => {
      const prefix = `t-${randomUUID().slice(0, 8)}`;
      const store = createElasticsearchEventStore({ client: es.client, indexPrefix: prefix, pollMs: 20, bufferMs: 10_000 });
      const bus = createEventBus({ events: store, logger: silentLogger() });
      const launcher = createFakeLauncher();
      const list = workflowList([workflow('on-alert', { trigger: { events: { tags: ['alerts'] } } })]);
      const r = redis();
      const mk = () => {
        const d: EventTriggerDispatcher = createEventTriggerDispatcher({
          ...createRedisCoordinationOn(r, prefix),
          events: store,
          workflows: list,
          launcher,
          logger: silentLogger(),
          retryMs: 20,
        });
        stoppers.push(d);
        return d;
      };
      const first = mk();
      await first.start();
      const floor = (JSON.parse((await r.get(createKeys(prefix).dispatcherCheckpoint))!) as { f: number }).f;
      const onTime = await bus.emit({ tags: ['alerts:cpu'], value: 'on time' });
      await waitFor(() => launcher.started.length === 1, { what: 'on-time event started' });
      // Accepted right after the dispatcher started (before the on-time event), searchable only now.
      const lateAt = floor + 1;
      const lateId = `${String(lateAt).padStart(13, '0')}-zzzzzz-late`;
      await es.admin.index({
        index: `${prefix}-events-${new Date(lateAt).toISOString().slice(0, 10).replace(/-/g, '.')}`,
        id: lateId,
        refresh: true,
        document: { id: lateId, tags: ['alerts:disk', 'alerts'], type: 'event', value: 'late', timestamp: new Date(lateAt).toISOString(), ingestedAt: lateAt },
      });
      await waitFor(() => launcher.started.length === 2, { what: 'late event started' });
      await first.stop();
      const second = mk();
      await second.start();
      const s = await bus.emit({ tags: ['alerts'], value: 'after restart' });
      await waitFor(() => launcher.started.some((c) => (c.options.trigger as { eventId: string }).eventId === s.id), { what: 'event after restart' });
      const ids = launcher.calls.map((c) => (c.options.trigger as { eventId: string }).eventId);
      assert.deepEqual(ids, [onTime.id, lateId, s.id], 'each event dispatched once, the late one included');
    });

    it('query trigger: one run per poll with a bounded batch, count and more; late documents once', async () => {
      const prefix = `t-${randomUUID().slice(0, 8)}`;
      const index = `logs-${randomUUID().slice(0, 6)}`;
      const launcher = createFakeLauncher();
      const wf = workflow('on-errors', {
        trigger: { elasticsearch: { index: `${index}-*`, query: { range: { status: { gte: 500 } } }, every: '50ms', batchSize: 2 } },
      });
      const search = createElasticsearchDocumentSearch({ client: es.client });
      const r = redis();
      const mk = () => {
        const t: ElasticsearchQueryTriggers = createElasticsearchQueryTriggers({
          ...createRedisCoordinationOn(r, prefix),
          search,
          workflows: workflowList([wf]),
          launcher,
          logger: silentLogger(),
          tickMs: 20,
          bufferMs: 30_000,
        });
        stoppers.push(t);
        return t;
      };
      // Two pollers on one Redis: only the lease holder polls.
      const [a, b] = [mk(), mk()];
      await a.start();
      await b.start();
      await waitFor(async () => (await r.get(createKeys(prefix).esTriggerCheckpoint('on-errors'))) !== null, { what: 'first poll sets the floor' });
      assert.ok(a.leader !== b.leader, 'exactly one poller holds the lease');
      // Documents count from just after the first poll (the floor) on.
      const floor = (JSON.parse((await r.get(createKeys(prefix).esTriggerCheckpoint('on-errors')))!) as { f: number }).f;
      const doc = (status: number, at = Math.max(Date.now(), floor + 1)) => ({ '@timestamp': new Date(at).toISOString(), status, path: '/x' });
      await es.admin.bulk({
        refresh: true,
        operations: [
          { index: { _index: `${index}-1` } },
          doc(500),
          { index: { _index: `${index}-1` } },
          doc(503),
          { index: { _index: `${index}-1` } },
          doc(200),
          { index: { _index: `${index}-1` } },
          doc(502),
        ],
      });
      await waitFor(() => launcher.started.length === 1, { what: 'run for three errors' });
      const input = launcher.started[0].options.input as { documents: Array<{ status: number }>; count: number; more: number };
      assert.equal(input.documents.length, 2);
      assert.deepEqual([input.count, input.more], [3, 1]);
      assert.ok(input.documents.every((d) => d.status >= 500));
      assert.deepEqual(launcher.started[0].options.trigger, { type: 'elasticsearch', index: `${index}-*`, count: 3 });

      // Timestamped just after the trigger began (behind the watermark), searchable only now.
      await es.admin.index({ index: `${index}-1`, document: doc(504, floor + 1), refresh: true });
      await waitFor(() => launcher.started.length === 2, { what: 'run for the late document' });
      assert.equal((launcher.started[1].options.input as { count: number }).count, 1);
      const seen = searches();
      await waitFor(() => searches() >= seen + 3, { what: 'three more polls' });
      assert.equal(launcher.calls.length, 2, 'nothing delivered twice');
    });
  });
