import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Lease } from '../../engine/ports/coordination.ts';

/**
 * The one Redis lease: a key holding the holder's token with a TTL. Taking it is SET NX PX;
 * renewing and releasing compare the token first (Lua), so a holder that lost the lease
 * never extends or deletes someone else's. Writes that only the holder may make go through
 * `setIfHolder`.
 */
export interface RedisLease extends Lease {
  readonly key: string;
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const SET_IF_HOLDER = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[2], ARGV[2]) return 1 end return 0`;

export function createRedisLease(redis: Redis, options: { name: string; key: string; ttlMs: number; token?: string }): RedisLease {
  const { key, ttlMs } = options;
  const token = options.token ?? randomUUID();
  return {
    name: options.name,
    key,
    token,
    async acquire() {
      if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK') return true;
      return (await redis.eval(RENEW, 1, key, token, String(ttlMs))) === 1;
    },
    async renew() {
      return (await redis.eval(RENEW, 1, key, token, String(ttlMs))) === 1;
    },
    async release() {
      await redis.eval(RELEASE, 1, key, token);
    },
  };
}

/** SET `key` `value` only while `lease` (held under `leaseKey`) is ours. */
export async function setIfHolder(redis: Redis, leaseKey: string, token: string, key: string, value: string): Promise<boolean> {
  return (await redis.eval(SET_IF_HOLDER, 2, leaseKey, key, token, value)) === 1;
}
