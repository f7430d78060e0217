import type { Run, RunTrigger } from '../domain/run.ts';

export interface StartRunOptions {
  input?: unknown;
  trigger: RunTrigger;
  /**
   * Makes starting idempotent: every call with the same key (per workflow) starts at most
   * one run, ever (kept for days). Cron ticks and event deliveries use it.
   */
  dedupeKey?: string;
}

export type StartRunResult = { started: true; run: Run } | { started: false; reason: 'duplicate' | 'overlap' | 'disabled'; runId?: string };

/** The one way anything (API, cron, event triggers) starts a run. */
export interface RunLauncher {
  start(workflow: string, options: StartRunOptions): Promise<StartRunResult>;
}
