import type { Redis } from 'ioredis';
import type { RunStatus } from '../../engine/domain/run.ts';
import { DURATION_BUCKETS, type RunStats } from '../../engine/ports/run-stats.ts';
import { guarded } from './errors.ts';
import type { RedisKeys } from './keys.ts';

/** Finished runs by status in the hash `stats:runs`; the cumulative duration histogram in `stats:durations`. */
export function createRedisRunStats(options: { redis: Redis; keys: RedisKeys }): RunStats {
  const { redis, keys } = options;
  return guarded('run stats', {
    async recordFinished(status: RunStatus, durationMs: number) {
      const s = durationMs / 1000;
      const m = redis.multi().hincrby(keys.stats, status, 1);
      for (const b of DURATION_BUCKETS) if (s <= b) m.hincrby(keys.durations, `le_${b}`, 1);
      m.hincrby(keys.durations, 'count', 1).hincrbyfloat(keys.durations, 'sum', s);
      await m.exec();
    },
    async read() {
      const [byStatus, d] = await Promise.all([redis.hgetall(keys.stats), redis.hgetall(keys.durations)]);
      return {
        byStatus: Object.fromEntries(Object.entries(byStatus).map(([k, v]) => [k, Number(v)])),
        buckets: DURATION_BUCKETS.map((b) => Number(d[`le_${b}`] ?? 0)),
        count: Number(d.count ?? 0),
        sum: Number(d.sum ?? 0),
      };
    },
  });
}
