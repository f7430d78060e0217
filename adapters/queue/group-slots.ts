import type { Redis } from 'ioredis';

/**
 * Per-group admission for the run queue (the fairness part of engine/ports/run-queue.ts),
 * in two Redis sorted sets per group under the queue's own prefix (the queue family of
 * keys, rooted by adapters/redis/keys.ts `queuePrefix`):
 *
 * - `<q>:group:<id>:running` — job id → lease expiry (Redis time, ms). A job holds a slot
 *   while it is processed and renews the lease; a slot whose engine died expires after one
 *   lease, like BullMQ's own stalled-job lock, so a crash never wedges a group.
 * - `<q>:group:<id>:parked` — job id → time it was set aside. When a slot frees, the
 *   oldest parked jobs (as many as there is room for) are handed back to be woken.
 *
 * Time is Redis' own (`TIME`), so engines with skewed clocks agree on expiry. Both keys
 * expire when a group goes quiet, so deleted workflows leave nothing behind.
 */
export interface GroupSlots {
  /** Takes a slot for `jobId`, or renews the one it already holds; false when the group is full. */
  acquire(group: string, jobId: string, limit: number): Promise<boolean>;
  /** Extends the lease of a slot `jobId` holds (no-op when it has none). */
  renew(group: string, jobId: string): Promise<void>;
  /** Records `jobId` as set aside; returns parked jobs to wake if room appeared meanwhile. */
  park(group: string, jobId: string, limit: number): Promise<string[]>;
  /** Frees the slot of `jobId`; returns parked jobs to wake into the room it made. */
  release(group: string, jobId: string, limit: number): Promise<string[]>;
  /** Parked jobs to wake when the group has room (after a wake-up found its job gone). */
  room(group: string, limit: number): Promise<string[]>;
}

export interface GroupSlotsOptions {
  redis: Redis;
  /** `<queue prefix>:<queue name>`. */
  prefix: string;
  /** How long a slot is held without renewal (the queue's lock duration). */
  leaseMs: number;
  /** How long a quiet group's keys live (longer than any lease or park). */
  ttlMs: number;
}

// Shared by every script: the Redis time in ms, and expired slots dropped.
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
`;

// Pops the oldest parked jobs, as many as the group has room for.
const WAKE = `
local room = tonumber(ARGV[2]) - redis.call('ZCARD', KEYS[1])
if room <= 0 then return {} end
local popped = redis.call('ZPOPMIN', KEYS[2], room)
local ids = {}
for i = 1, #popped, 2 do ids[#ids + 1] = popped[i] end
return ids
`;

// KEYS: running, parked. ARGV: jobId, limit, leaseMs, ttlMs.
const ACQUIRE = `${PRELUDE}
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 1
end
return 0
`;

// KEYS: running. ARGV: jobId, leaseMs, ttlMs.
const RENEW = `${PRELUDE}
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

// KEYS: running, parked. ARGV: jobId, limit, ttlMs.
const PARK = `${PRELUDE}
redis.call('ZADD', KEYS[2], 'NX', now, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
${WAKE}`;

// KEYS: running, parked. ARGV: jobId, limit.
const RELEASE = `${PRELUDE}
redis.call('ZREM', KEYS[1], ARGV[1])
${WAKE}`;

// KEYS: running, parked. ARGV: (unused), limit.
const ROOM = `${PRELUDE}${WAKE}`;

const runningKey = (prefix: string, g: string) => `${prefix}:group:${g}:running`;
const parkedKey = (prefix: string, g: string) => `${prefix}:group:${g}:parked`;
const ids = (res: unknown) => (Array.isArray(res) ? res.map(String) : []);

/** The freeing half alone, for the queue itself (no worker, so no lease to speak of). */
export type GroupRelease = Pick<GroupSlots, 'release' | 'room'>;

export function createGroupRelease(o: Pick<GroupSlotsOptions, 'redis' | 'prefix'>): GroupRelease {
  const running = (g: string) => runningKey(o.prefix, g);
  const parked = (g: string) => parkedKey(o.prefix, g);
  return {
    async release(group, jobId, limit) {
      return ids(await o.redis.eval(RELEASE, 2, running(group), parked(group), jobId, limit));
    },
    async room(group, limit) {
      return ids(await o.redis.eval(ROOM, 2, running(group), parked(group), '', limit));
    },
  };
}

export function createGroupSlots(o: GroupSlotsOptions): GroupSlots {
  const running = (g: string) => runningKey(o.prefix, g);
  const parked = (g: string) => parkedKey(o.prefix, g);
  return {
    ...createGroupRelease(o),
    async acquire(group, jobId, limit) {
      return (await o.redis.eval(ACQUIRE, 2, running(group), parked(group), jobId, limit, o.leaseMs, o.ttlMs)) === 1;
    },
    async renew(group, jobId) {
      await o.redis.eval(RENEW, 1, running(group), jobId, o.leaseMs, o.ttlMs);
    },
    async park(group, jobId, limit) {
      return ids(await o.redis.eval(PARK, 2, running(group), parked(group), jobId, limit, o.ttlMs));
    },
  };
}
