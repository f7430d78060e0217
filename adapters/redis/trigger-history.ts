import type { Redis } from 'ioredis';
import { LATENESS_BUCKETS, TRIGGER_HISTORY_MAX, type SkipReason, type TriggerRecord } from '../../engine/domain/trigger-record.ts';
import type { TriggerHistory } from '../../engine/ports/trigger-history.ts';
import { guarded } from './errors.ts';
import type { RedisKeys } from './keys.ts';

/**
 * Keeps a record only while the workflow exists, so a trigger that raced the workflow's
 * deletion leaves no history for a later workflow of the same name; a skip is counted
 * either way (the counter is about what happened, not about what still exists).
 * KEYS: workflow, history, skip counters. ARGV: JSON, cap, counter field ('' = none), count.
 */
const RECORD = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('LPUSH', KEYS[2], ARGV[1])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
end
if ARGV[3] ~= '' then redis.call('HINCRBY', KEYS[3], ARGV[3], ARGV[4]) end
return 1
`;

/**
 * Trigger history in Redis: per workflow the list `wf:<n>:triggers` (newest first, capped at
 * TRIGGER_HISTORY_MAX), skip counters in the hash `stats:trigger-skipped` (field
 * `<workflow>|<reason>`: names hold no `|`), and the cumulative cron lateness histogram in
 * `stats:cron-lateness`, laid out like the run-duration one.
 */
export function createRedisTriggerHistory(options: { redis: Redis; keys: RedisKeys }): TriggerHistory {
  const { redis, keys } = options;
  return guarded('trigger history', {
    async record(workflow: string, record: TriggerRecord) {
      const field = record.outcome === 'skipped' && record.reason ? `${workflow}|${record.reason}` : '';
      const count = Math.max(1, Math.round(record.count ?? 1));
      await redis.eval(
        RECORD,
        3,
        keys.workflow(workflow),
        keys.workflowTriggers(workflow),
        keys.triggerSkipped,
        JSON.stringify(record),
        TRIGGER_HISTORY_MAX,
        field,
        count,
      );
    },
    async recent(workflow: string, opts: { limit?: number } = {}) {
      const limit = Math.max(1, Math.min(opts.limit ?? 100, TRIGGER_HISTORY_MAX));
      return (await redis.lrange(keys.workflowTriggers(workflow), 0, limit - 1)).map((j) => JSON.parse(j) as TriggerRecord);
    },
    async skippedCounts() {
      const all = await redis.hgetall(keys.triggerSkipped);
      return Object.entries(all)
        .map(([field, n]) => {
          const at = field.lastIndexOf('|');
          return { workflow: field.slice(0, at), reason: field.slice(at + 1) as SkipReason, count: Number(n) };
        })
        .sort((a, b) => a.workflow.localeCompare(b.workflow) || a.reason.localeCompare(b.reason));
    },
    async recordCronLateness(ms: number) {
      // A tick started a hair before its time (clock steps between replicas) is on time.
      const s = Math.max(0, ms) / 1000;
      const m = redis.multi();
      for (const b of LATENESS_BUCKETS) if (s <= b) m.hincrby(keys.cronLateness, `le_${b}`, 1);
      m.hincrby(keys.cronLateness, 'count', 1).hincrbyfloat(keys.cronLateness, 'sum', s);
      await m.exec();
    },
    async cronLateness() {
      const h = await redis.hgetall(keys.cronLateness);
      return { buckets: LATENESS_BUCKETS.map((b) => Number(h[`le_${b}`] ?? 0)), count: Number(h.count ?? 0), sum: Number(h.sum ?? 0) };
    },
  });
}
