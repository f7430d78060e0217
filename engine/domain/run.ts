export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_STATUSES: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'timed_out', 'cancelled']);

/** What started a run. `event` carries the event id; `cron` the tick it fired for. */
export type RunTrigger =
  | { type: 'manual' }
  | { type: 'cron'; tick: string; catchUp?: boolean }
  | { type: 'event'; eventId: string }
  | { type: 'elasticsearch'; index: string; count: number };

export interface RunError {
  /** A code of the error catalogue (SCRIPT.ERROR, SANDBOX.TIMEOUT, RUN.CANCELLED, …); kept a string since stored runs outlive code changes. */
  code: string;
  message: string;
  /** 1-based position in the workflow's original script, when the error came from it. */
  line?: number;
  column?: number;
  stack?: string;
}

export interface Run {
  id: string;
  workflow: string;
  workflowVersion: number;
  status: RunStatus;
  trigger: RunTrigger;
  input: unknown;
  attempts: number;
  maxAttempts: number;
  queuedAt: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  result?: unknown;
  error?: RunError;
  /** Set once the run was retried because its sandbox process crashed (it may have been a bystander). */
  crashRetried?: boolean;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  /** Position in the run's log, from 1; SSE uses it as the event id. */
  seq: number;
  time: string;
  level: LogLevel;
  message: string;
  fields?: Record<string, unknown>;
  attempt?: number;
}
