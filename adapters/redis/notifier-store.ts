import type { Redis } from 'ioredis';
import type { Lease } from '../../engine/ports/coordination.ts';
import type { Delivery, Notifier, NotifierSpec, NotifierStore } from '../../engine/ports/notifier-store.ts';
import { guarded } from './errors.ts';
import type { RedisKeys } from './keys.ts';

/**
 * Notifiers in Redis: the hash `notifiers` (name → JSON spec + updatedAt), the hash
 * `notifiers:created` (name → createdAt, written once), and per notifier the cursor string
 * `notifier:<n>:cursor` and the capped list `notifier:<n>:deliveries` (newest first).
 * Every multi-key change is one script, so a notifier is never half created or half deleted.
 */

/** KEYS: specs, created, cursor. ARGV: name, JSON, now, start. Returns createdAt and whether it was created. */
const PUT = `
local created = redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[3])
if created == 1 then redis.call('SET', KEYS[3], ARGV[4]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return { redis.call('HGET', KEYS[2], ARGV[1]), created }
`;

/** KEYS: lease, specs, cursor. ARGV: token, name, cursor. Only the lease holder, only while the notifier exists. */
const SAVE_CURSOR = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then return 0 end
redis.call('SET', KEYS[3], ARGV[3])
return 1
`;

/** KEYS: specs, deliveries. ARGV: name, JSON, keep. A delivery that raced a DELETE leaves no list behind. */
const RECORD = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return 1
`;

type Stored = NotifierSpec & { updatedAt: string };

const toNotifier = (name: string, json: string, createdAt: string | null | undefined): Notifier => {
  const s = JSON.parse(json) as Stored;
  return { name, ...s, createdAt: createdAt ?? s.updatedAt };
};

export function createRedisNotifierStore(options: { redis: Redis; keys: RedisKeys }): NotifierStore {
  const { redis, keys } = options;
  return guarded('notifier store', {
    async put(name: string, spec: NotifierSpec, now: string, start: string) {
      const stored: Stored = { ...spec, updatedAt: now };
      const [createdAt, created] = (await redis.eval(
        PUT,
        3,
        keys.notifiers,
        keys.notifiersCreated,
        keys.notifierCursor(name),
        name,
        JSON.stringify(stored),
        now,
        start,
      )) as [string, number];
      return { notifier: { name, ...stored, createdAt }, created: created === 1 };
    },
    async get(name: string) {
      const [json, createdAt] = await Promise.all([redis.hget(keys.notifiers, name), redis.hget(keys.notifiersCreated, name)]);
      return json === null ? undefined : toNotifier(name, json, createdAt);
    },
    async list() {
      const [all, created] = await Promise.all([redis.hgetall(keys.notifiers), redis.hgetall(keys.notifiersCreated)]);
      return Object.entries(all)
        .map(([name, json]) => toNotifier(name, json, created[name]))
        .sort((a, b) => a.name.localeCompare(b.name));
    },
    async delete(name: string) {
      const res = await redis
        .multi()
        .hdel(keys.notifiers, name)
        .hdel(keys.notifiersCreated, name)
        .del(keys.notifierCursor(name), keys.notifierDeliveries(name))
        .exec();
      return Number(res?.[0]?.[1] ?? 0) === 1;
    },
    async cursor(name: string) {
      return (await redis.get(keys.notifierCursor(name))) ?? undefined;
    },
    async saveCursor(name: string, checkpoint: string, lease: Lease) {
      return (await redis.eval(SAVE_CURSOR, 3, keys.lease(lease.name), keys.notifiers, keys.notifierCursor(name), lease.token, name, checkpoint)) === 1;
    },
    async recordDelivery(name: string, delivery: Delivery, keep: number) {
      await redis.eval(RECORD, 2, keys.notifiers, keys.notifierDeliveries(name), name, JSON.stringify(delivery), Math.max(1, keep));
    },
    async deliveries(name: string, limit: number) {
      return (await redis.lrange(keys.notifierDeliveries(name), 0, Math.max(1, limit) - 1)).map((j) => JSON.parse(j) as Delivery);
    },
  });
}
