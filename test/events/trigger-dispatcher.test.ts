import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisStreamEventStore } from '../../adapters/events/redis-streams.ts';
import { createEventBus, type EventBus } from '../../engine/events/bus.ts';
import { createEventTriggerDispatcher, type EventTriggerDispatcher } from '../../engine/events/trigger-dispatcher.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { createFakeLauncher, workflow, workflowList, type FakeLauncher } from './fakes.ts';
import { createRedisCoordinationOn } from '../../adapters/redis/index.ts';

describe('event trigger dispatcher', () => {
  let server: TestRedis;
  const clients: Redis[] = [];
  const dispatchers: EventTriggerDispatcher[] = [];

  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    for (const d of dispatchers) await d.stop();
    for (const c of clients) c.disconnect();
    await server.stop();
  });

  const workflows = () => [
    workflow('on-deploy', { trigger: { events: { tags: ['deployments:shop'], type: 'deployed' } } }),
    workflow('on-any-gateway', { trigger: { events: { tags: ['gateways'] } } }),
    workflow('sentinel', { trigger: { events: { tags: ['sentinel'] } } }),
    workflow('cron-only', { trigger: { cron: '* * * * *' } }),
  ];

  async function setup() {
    const prefix = `t-${randomUUID().slice(0, 8)}`;
    const redis = server.client({ maxRetriesPerRequest: 1 });
    clients.push(redis);
    const store = createRedisStreamEventStore({ redis, prefix });
    const bus = createEventBus({ events: store, logger: silentLogger() });
    const launcher = createFakeLauncher();
    const list = workflowList(workflows());
    const dispatcher = (l: FakeLauncher = launcher) => {
      const d = createEventTriggerDispatcher({
        ...createRedisCoordinationOn(redis, prefix),
        events: store,
        workflows: list,
        launcher: l,
        logger: silentLogger(),
        retryMs: 20,
        lockTtlMs: 3000,
      });
      dispatchers.push(d);
      return d;
    };
    return { prefix, redis, store, bus, launcher, list, dispatcher };
  }

  /** Posts a sentinel event and waits for its run: everything posted before it has been dispatched. */
  async function drain(bus: EventBus, launcher: FakeLauncher) {
    const s = await bus.emit({ tags: ['sentinel'] });
    await waitFor(() => launcher.started.some((c) => c.options.dedupeKey === `event:${s.id}`), { what: 'sentinel run' });
  }

  const startsFor = (l: FakeLauncher, wf: string) => l.started.filter((c) => c.workflow === wf);

  it('starts each matching workflow once per event with the event as input; others not', async () => {
    const { bus, launcher, dispatcher } = await setup();
    await dispatcher().start();
    await waitFor(() => dispatchers.at(-1)!.leader, { what: 'leadership' });
    const deployed = await bus.emit({ tags: ['deployments:shop', 'gateways:shop'], type: 'deployed', value: { version: 2 } });
    await bus.emit({ tags: ['deployments:shop'], type: 'undeployed' });
    await bus.emit({ tags: ['deployments:cart'], type: 'deployed' });
    await drain(bus, launcher);

    const deploy = startsFor(launcher, 'on-deploy');
    assert.equal(deploy.length, 1);
    assert.deepEqual(deploy[0].options.trigger, { type: 'event', eventId: deployed.id });
    assert.equal(deploy[0].options.dedupeKey, `event:${deployed.id}`);
    assert.deepEqual(deploy[0].options.input, deployed);
    assert.equal(startsFor(launcher, 'on-any-gateway').length, 1, '`gateways` matches the expanded gateways:shop tag');
    assert.equal(startsFor(launcher, 'cron-only').length, 0);
  });

  it('a restarted dispatcher (same Redis) neither loses nor repeats events', async () => {
    const { bus, launcher, dispatcher } = await setup();
    const first = dispatcher();
    await first.start();
    for (let i = 0; i < 3; i++) await bus.emit({ tags: ['gateways:a'], value: i });
    await drain(bus, launcher);
    await first.stop();
    // Posted while no dispatcher runs.
    for (let i = 3; i < 6; i++) await bus.emit({ tags: ['gateways:a'], value: i });
    const second = dispatcher();
    await second.start();
    await drain(bus, launcher);
    const values = launcher.calls.filter((c) => c.workflow === 'on-any-gateway').map((c) => (c.options.input as { value: number }).value);
    assert.deepEqual(values, [0, 1, 2, 3, 4, 5], 'every event dispatched exactly once, in order');
  });

  it('two dispatchers on the same Redis start each event once', async () => {
    const { bus, launcher, dispatcher } = await setup();
    await Promise.all([dispatcher().start(), dispatcher().start()]);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await bus.emit({ tags: ['gateways:b'], value: i })).id);
    await drain(bus, launcher);
    const calls = launcher.calls.filter((c) => c.workflow === 'on-any-gateway');
    assert.deepEqual(
      calls.map((c) => c.options.trigger).map((t) => (t as { eventId: string }).eventId),
      ids,
      'one start call per event, none doubled',
    );
  });

  it('does not move past an event whose start failed; retries it until it starts', async () => {
    const { bus, launcher, dispatcher } = await setup();
    await dispatcher().start();
    await waitFor(() => dispatchers.at(-1)!.leader, { what: 'leadership' });
    launcher.failNext(3);
    const e = await bus.emit({ tags: ['gateways:c'] });
    await bus.emit({ tags: ['gateways:c'], value: 'later' });
    await drain(bus, launcher);
    const started = startsFor(launcher, 'on-any-gateway');
    assert.equal(started.length, 2);
    assert.equal((started[0].options.trigger as { eventId: string }).eventId, e.id, 'the failed event started first, once');
    assert.ok(launcher.calls.length > launcher.started.length, 'failed calls were retried');
  });

  it('picks up a workflow added later (change signal)', async () => {
    const { bus, launcher, list, dispatcher } = await setup();
    await dispatcher().start();
    list.set([...workflows(), workflow('late', { trigger: { events: { tags: ['late'] } } })]);
    await waitFor(
      async () => {
        await bus.emit({ tags: ['late'] });
        return startsFor(launcher, 'late').length > 0;
      },
      { what: 'late workflow started', intervalMs: 50 },
    );
  });
});
