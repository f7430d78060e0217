import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisStreamEventStore } from '../../adapters/events/redis-streams.ts';
import { createEventBus, type EventBus } from '../../engine/events/bus.ts';
import type { VeerEvent } from '../../engine/domain/event.ts';
import { createEventsCapability } from '../../engine/events/events-capability.ts';
import { createEventTriggerDispatcher } from '../../engine/events/trigger-dispatcher.ts';
import type { RunScope } from '../../engine/sandbox/capabilities.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { createFakeLauncher, workflow, workflowList } from './fakes.ts';
import { createRedisCoordinationOn } from '../../adapters/redis/index.ts';

const scope = (name: string): RunScope => ({
  runId: 'r1',
  attempt: 1,
  workflow: { name, version: 1, permissions: { gateways: [], deployments: {} } },
  log: () => {},
  signal: new AbortController().signal,
  deadline: Date.now() + 60_000,
});

describe('ctx.events', () => {
  let server: TestRedis;
  let redis: Redis;
  let bus: EventBus;
  let prefix: string;

  before(async () => {
    server = await startRedis();
    redis = server.client({ maxRetriesPerRequest: 1 });
    prefix = `t-${randomUUID().slice(0, 8)}`;
    bus = createEventBus({ events: createRedisStreamEventStore({ redis, prefix }), logger: silentLogger() });
  });
  after(async () => {
    await bus.close();
    redis.disconnect();
    await server.stop();
  });

  it('emit goes through the bus tagged with its workflow, reaches triggers of other workflows only, and query reads it back', async () => {
    const launcher = createFakeLauncher();
    const list = workflowList([
      workflow('promoter', { trigger: { events: { tags: ['canary'] } } }),
      workflow('notifier', { trigger: { events: { tags: ['canary', 'workflows:promoter'] } } }),
    ]);
    const d = createEventTriggerDispatcher({
      ...createRedisCoordinationOn(redis, prefix),
      events: bus.store,
      workflows: list,
      launcher,
      logger: silentLogger(),
    });
    await d.start();
    try {
      const cap = createEventsCapability(bus);
      const e = (await cap.emit(scope('promoter'), { tags: ['canary:shop'], type: 'promoted', value: { weight: 50 } })) as VeerEvent;
      assert.deepEqual(e.tags, ['canary:shop', 'canary', 'workflows:promoter', 'workflows']);
      await waitFor(() => launcher.started.some((c) => c.workflow === 'notifier'), { what: 'notifier started' });
      // A script sees its own workflow's events (and granted tags only).
      const found = (await cap.query(scope('promoter'), { tags: ['workflows:promoter'], type: 'promoted' })) as VeerEvent[];
      assert.deepEqual(
        found.map((f) => f.id),
        [e.id],
      );
      await assert.rejects(cap.emit(scope('promoter'), { tags: ['bad tag'] }), { code: 'VALIDATION' });
      // A sentinel proves the dispatcher went past the emitted event: the emitter did not re-trigger itself.
      const s = await bus.emit({ tags: ['canary'], value: 'sentinel' });
      await waitFor(() => launcher.started.some((c) => c.workflow === 'promoter' && (c.options.trigger as { eventId: string }).eventId === s.id), {
        what: 'sentinel',
      });
      assert.equal(launcher.calls.filter((c) => c.workflow === 'promoter').length, 1, 'promoter not started by its own event');
    } finally {
      await d.stop();
    }
  });
});
