import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Redis lease so exactly one replica does a job (dispatching event triggers, polling
 * Elasticsearch). The holder renews it every ttl/3; a replica that dies loses it after
 * `ttlMs` and a standby takes over. Writes that must come from the holder only go
 * through `setIfHolder`, so a replica that lost the lease cannot move a checkpoint.
 */
export interface LeaderLock {
  readonly token: string;
  /** Takes the lease if free (or already ours). */
  acquire(): Promise<boolean>;
  /** Extends our lease; false when it is no longer ours. */
  renew(): Promise<boolean>;
  /** Gives the lease up if we hold it. */
  release(): Promise<void>;
  /** SET key value, only while we hold the lease. */
  setIfHolder(key: string, value: string): Promise<boolean>;
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const SET_IF = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[2], ARGV[2]) return 1 end return 0`;

export function createLeaderLock(redis: Redis, key: string, ttlMs: number): LeaderLock {
  const token = randomUUID();
  return {
    token,
    async acquire() {
      const res = await redis.set(key, token, 'PX', ttlMs, 'NX');
      if (res === 'OK') return true;
      return (await redis.eval(RENEW, 1, key, token, String(ttlMs))) === 1;
    },
    async renew() {
      return (await redis.eval(RENEW, 1, key, token, String(ttlMs))) === 1;
    },
    async release() {
      await redis.eval(RELEASE, 1, key, token);
    },
    async setIfHolder(k, value) {
      return (await redis.eval(SET_IF, 2, key, k, token, value)) === 1;
    },
  };
}
