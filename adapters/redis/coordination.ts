import type { Redis } from 'ioredis';
import type { Coordination, EngineStatus, Leadership } from '../../engine/ports/coordination.ts';
import { guard, guarded, redisUnavailable } from './errors.ts';
import type { RedisKeys } from './keys.ts';
import { createRedisLease } from './lease.ts';
import { runLeaderLoop } from './leader.ts';
import type { Subscriber } from './subscriber.ts';

/**
 * Coordination on Redis: leases at `<p>:<name>:lock`, signals as PUBLISH on `<p>:<channel>`
 * (received through the process's one subscriber), engine heartbeats as `<p>:engine:<id>`
 * (expiring) indexed by the set `<p>:engines`.
 */
export function createRedisCoordination(options: { redis: Redis; keys: RedisKeys; subscriber: Subscriber }): Coordination {
  const { redis, keys, subscriber } = options;
  const leaderships = new Set<Leadership>();

  const lease = (name: string, ttlMs: number) => guarded(`lease ${name}`, createRedisLease(redis, { name, key: keys.lease(name), ttlMs }));

  return {
    lease,
    runAsLeader(name, o) {
      const l = runLeaderLoop(lease(name, o.ttlMs), o);
      leaderships.add(l);
      return {
        get leader() {
          return l.leader;
        },
        ready: l.ready,
        async stop() {
          leaderships.delete(l);
          await l.stop();
        },
      };
    },
    signal: (channel, message) => guard(`signal ${channel}`, async () => void (await redis.publish(keys.channel(channel), message))),
    listen: (channel, listener) => guard(`listen ${channel}`, () => subscriber.listen(keys.channel(channel), listener)),
    engines: guarded('engines', {
      async beat(status: EngineStatus, ttlMs: number) {
        await redis.multi().set(keys.engine(status.id), JSON.stringify(status), 'PX', ttlMs).sadd(keys.engines, status.id).exec();
      },
      async remove(id: string) {
        await redis.multi().del(keys.engine(id)).srem(keys.engines, id).exec();
      },
      async list() {
        const ids = await redis.smembers(keys.engines);
        if (ids.length === 0) return [];
        const beats = await redis.mget(...ids.map((id) => keys.engine(id)));
        // A missing heartbeat key means that engine's heartbeat expired.
        const stale = ids.filter((_, i) => !beats[i]);
        if (stale.length) await redis.srem(keys.engines, ...stale);
        return beats.filter((b): b is string => !!b).map((b) => JSON.parse(b) as EngineStatus);
      },
    }),
    async ping(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      try {
        const pong = await Promise.race([
          redis.ping(),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
        ]);
        if (pong !== 'PONG') throw new Error(`PING answered ${String(pong)}`);
      } catch (err) {
        throw redisUnavailable('ping', err);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await Promise.all([...leaderships].map((l) => l.stop()));
      leaderships.clear();
    },
  };
}
