import type { Run, RunTrigger } from '../domain/run.ts';
import type { SkipReason } from '../domain/trigger-record.ts';

export interface StartRunOptions {
  input?: unknown;
  trigger: RunTrigger;
  /**
   * Makes starting idempotent: every call with the same key (per workflow) starts at most
   * one run, ever (kept for days). Cron ticks and event deliveries use it.
   */
  dedupeKey?: string;
  /** Manual runs only: reads are real, effects are recorded and not applied (Run.dryRun). */
  dryRun?: boolean;
}

/** Why no run started: a duplicate (another replica took the key) or a skip reason (recorded). */
export type NotStartedReason = 'duplicate' | SkipReason;

/** `queued`: another run is active and this one waits for it (overlap `queue`). */
export type StartRunResult = { started: true; run: Run; queued: boolean } | { started: false; reason: NotStartedReason; runId?: string };

/** The one way anything (API, cron, event triggers) starts a run. */
export interface RunLauncher {
  start(workflow: string, options: StartRunOptions): Promise<StartRunResult>;
}
