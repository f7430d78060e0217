import type { SkipReason, TriggerRecord } from '../domain/trigger-record.ts';

/**
 * The recent trigger history of each workflow (capped at TRIGGER_HISTORY_MAX, newest first),
 * the skip counters behind `veer_trigger_skipped_total{workflow,reason}` and the cron
 * lateness histogram (LATENESS_BUCKETS), shared by every process so /metrics on any API
 * replica shows the whole system. Deleting a workflow deletes its history (counters stay:
 * Prometheus counters never go down).
 *
 * Errors: `<STORE>.UNAVAILABLE` (retryable).
 */
export interface TriggerHistory {
  /** Appends a record; a skip also adds `record.count ?? 1` to its counter. */
  record(workflow: string, record: TriggerRecord): Promise<void>;
  /** Newest first; default limit 100. */
  recent(workflow: string, options?: { limit?: number }): Promise<TriggerRecord[]>;
  skippedCounts(): Promise<Array<{ workflow: string; reason: SkipReason; count: number }>>;
  recordCronLateness(ms: number): Promise<void>;
  /** `buckets[i]` counts ticks started at most `LATENESS_BUCKETS[i]` seconds late (cumulative). */
  cronLateness(): Promise<{ buckets: number[]; count: number; sum: number }>;
}
