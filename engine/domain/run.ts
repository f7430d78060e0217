export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_STATUSES: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'timed_out', 'cancelled']);

/** What started a run. `event` carries the event id; `cron` the tick it fired for. */
export type RunTrigger =
  | { type: 'manual' }
  | { type: 'cron'; tick: string; catchUp?: boolean }
  | { type: 'event'; eventId: string; hops?: number }
  | { type: 'elasticsearch'; index: string; count: number }
  | { type: 'signal'; signalId: string; name: string };

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
  /** Attempts started, interrupted ones included. */
  attempts: number;
  /** `retries.attempts`: how many failed attempts the run may have. Interrupted ones do not count. */
  maxAttempts: number;
  /**
   * Attempts cut short by the engine (crash, stalled lock, a lost sandbox process) and run again
   * at no cost to `maxAttempts`: `attempts - interrupted` is what counted.
   */
  interrupted?: number;
  queuedAt: string;
  /** When the first attempt started; kept when a run is resumed or retried. */
  startedAt?: string;
  /** When the current (or last) attempt started. */
  attemptStartedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  result?: unknown;
  error?: RunError;
  /** What the last attempt used of its per-run budgets (VEER_BUDGET_*), so a user sees how close a run came. */
  budget?: RunBudgetUsage;
  /** A dry run: reads were real, effects were recorded (in `result.effects`) and not applied. */
  dryRun?: boolean;
  /** The engine executing the current attempt; a run whose engine's heartbeat is gone no longer blocks its workflow. */
  engineId?: string;
}

/** One effect a dry run would have had (`result.effects` of a dry run). */
export interface DryRunEffect {
  /** `gateways.setWeights`, `gateways.update`, `deployments.scale`, `events.emit`, `signals.take`, `state.set`, `state.delete`. */
  capability: string;
  /** What it acts on: a gateway, deployment or state key name, a signal name, or the event's tags. */
  target: string;
  before: unknown;
  after: unknown;
}

/** The result of a dry run: the script's own result and the effects it would have had. */
export interface DryRunResult {
  value: unknown;
  effects: DryRunEffect[];
}

/** A run's use of its budgets (engine/sandbox/run-budget.ts); `exceeded` names the BUDGET.* code that stopped it. */
export interface RunBudgetUsage {
  /** ctx.* calls made (state, gateways, deployments, events, metrics). */
  hostCalls: number;
  /** Most ctx.* calls that were waiting on the engine at one time. */
  hostCallsInFlightPeak: number;
  /** JSON bytes the engine returned into the isolate. */
  bytesReturned: number;
  eventsEmitted: number;
  /** Events returned by ctx.events.query, summed over calls. */
  eventResults: number;
  /** Requests ctx.http.fetch sent (absent on runs recorded before it existed). */
  httpRequests?: number;
  exceeded?: string;
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
