import type { Redis } from 'ioredis';
import type { Logger } from '../../engine/shared/logger.ts';

/** BullMQ loses jobs silently if Redis evicts keys; say so loudly at start-up. */
export async function warnOnEvictionPolicy(redis: Redis, logger: Logger): Promise<void> {
  try {
    const res = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = res[1];
    if (policy && policy !== 'noeviction') {
      logger.warn(
        { policy },
        `Redis maxmemory-policy is '${policy}': Redis may evict queued runs and run records. Set it to 'noeviction' (redis-cli CONFIG SET maxmemory-policy noeviction, and in redis.conf)`,
      );
    }
  } catch (err) {
    logger.info({ err: (err as Error).message }, 'could not read Redis maxmemory-policy (CONFIG may be disabled); make sure it is noeviction');
  }
}
