import type { Redis } from 'ioredis';
import type { RunStatus } from '../domain/run.ts';
import type { Keys } from '../store/keys.ts';

/** Seconds; the upper bounds of the run-duration histogram served on /metrics. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * Run counters shared by every engine process (so /metrics on any API replica shows the
 * whole system): finished runs by status in `stats:runs`, a cumulative duration
 * histogram in `stats:durations`.
 */
export interface RunStats {
  recordFinished(status: RunStatus, durationMs: number): Promise<void>;
  read(): Promise<{ byStatus: Record<string, number>; buckets: number[]; count: number; sum: number }>;
}

export function createRunStats(options: { redis: Redis; keys: Keys }): RunStats {
  const { redis, keys } = options;
  return {
    async recordFinished(status, durationMs) {
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
  };
}
