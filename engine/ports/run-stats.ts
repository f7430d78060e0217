import type { RunStatus } from '../domain/run.ts';

/** Seconds; the upper bounds of the run-duration histogram served on /metrics. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * Run counters shared by every engine process, so /metrics on any API replica shows the
 * whole system: finished runs by status and a cumulative duration histogram.
 */
export interface RunStats {
  recordFinished(status: RunStatus, durationMs: number): Promise<void>;
  /** `buckets[i]` counts runs of at most `DURATION_BUCKETS[i]` seconds. */
  read(): Promise<{ byStatus: Record<string, number>; buckets: number[]; count: number; sum: number }>;
}
