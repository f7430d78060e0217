/**
 * What became of a trigger: it started a run at once (`fired`), started one that waits for
 * the active run (`queued`, overlap `queue`), or started none (`skipped`, with the reason).
 * Every skip is visible three ways: a `trigger.skipped` event, the counter
 * `veer_trigger_skipped_total{workflow,reason}` on /metrics, and the workflow's trigger
 * history (`GET /api/v1/workflows/{name}/triggers`).
 */
export const TRIGGER_KINDS = ['cron', 'event', 'elasticsearch', 'signal'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

export const TRIGGER_OUTCOMES = ['fired', 'queued', 'skipped'] as const;
export type TriggerOutcome = (typeof TRIGGER_OUTCOMES)[number];

/**
 * - `overlap`: a run was still active (overlap `skip`);
 * - `queue_full`: overlap `queue` and `overlapQueue` runs already waiting;
 * - `missed`: cron ticks that fell while no engine ran and were not caught up;
 * - `paused`, `disabled`: the workflow's triggers are paused, or it is `enabled: false`;
 * - `loop`: the event is more than VEER_EVENTS_MAX_HOPS triggered runs from its origin.
 */
export const SKIP_REASONS = ['overlap', 'queue_full', 'missed', 'paused', 'disabled', 'loop'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface TriggerRecord {
  /** ISO-8601: when the trigger was handled. */
  at: string;
  trigger: TriggerKind;
  outcome: TriggerOutcome;
  reason?: SkipReason;
  /** The run started (fired, queued), or the active run that made it skip (overlap). */
  runId?: string;
  /** The cron tick (ISO), event id, signal id or Elasticsearch index it was for. */
  tick?: string;
  eventId?: string;
  signalId?: string;
  index?: string;
  /** Several ticks in one record (`missed`): how many, and the first and last. */
  count?: number;
  from?: string;
  to?: string;
}

/** Entries kept per workflow, newest first. */
export const TRIGGER_HISTORY_MAX = 500;

/** Seconds; upper bounds of the cron lateness histogram (tick time → run started). */
export const LATENESS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
