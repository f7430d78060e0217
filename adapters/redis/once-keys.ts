import type { Redis } from 'ioredis';
import type { OnceKeys } from '../../engine/ports/once-keys.ts';
import { guarded } from './errors.ts';
import type { RedisKeys } from './keys.ts';

/**
 * OnceKeys as plain Redis keys `<p>:once:<key>` set with `SET NX PX`: the first claim within
 * the TTL wins, in one step (no read-then-write race between API replicas), and Redis expires
 * the key itself, so nothing needs trimming.
 */
export function createRedisOnceKeys(options: { redis: Redis; keys: RedisKeys }): OnceKeys {
  const { redis, keys } = options;
  return guarded('once keys', {
    async claim(key: string, ttlMs: number) {
      return (await redis.set(keys.once(key), '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
    },
    async release(key: string) {
      await redis.del(keys.once(key));
    },
  });
}
