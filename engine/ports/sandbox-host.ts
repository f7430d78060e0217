import type { LogLevel, RunBudgetUsage, RunError, RunTrigger } from '../domain/run.ts';
import type { Permissions } from '../domain/workflow.ts';

/**
 * What a host function knows about the run that called it. Capabilities (gateways,
 * deployments, events, metrics, state…) are plain async functions on the engine side;
 * the sandbox exposes each as `ctx.<capability>.<method>(...args)`. Arguments and return
 * values are copied (JSON-like) across the sandbox boundary, never shared.
 */
export interface RunScope {
  runId: string;
  attempt: number;
  workflow: { name: string; version: number; permissions: Permissions };
  /** Appends to the run's log (what the user sees), not the service log. */
  log: (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;
  /** Aborted when the run's deadline passes or it is cancelled; long host calls must honour it. */
  signal: AbortSignal;
  /** Epoch ms after which the run is killed. */
  deadline: number;
  /** Hops of the events this run causes (one more than the event that started it; see VEER_EVENTS_MAX_HOPS). */
  hops?: number;
  /**
   * The run's budgets (VEER_BUDGET_*), when the engine enforces them: the host boundary counts
   * every ctx call, the bytes it returns, emitted events and query results; a capability with
   * costs of its own checks them here. Exceeding one throws a BUDGET.* error and fails the run.
   */
  budget?: RunBudget;
  /**
   * The secret values this run has read (ctx.secrets.get registers each): everything that
   * leaves the run through the host — log entries, its result and error, emitted events,
   * state it writes, audit resources — is passed through `redact` first.
   */
  secrets?: SecretRedactor;
}

/** Replaces every occurrence of a registered secret (and its base64, URL and JSON-escaped forms) by `***`. */
export interface SecretRedactor {
  add(value: string): void;
  /** A copy with every string (keys included) redacted; the value itself when nothing was registered. */
  redact<T>(value: T): T;
}

/** Cumulative per-run budgets a capability can draw on. */
export type BudgetCounter = 'bytesReturned' | 'eventsEmitted' | 'eventResults' | 'httpRequests';
/** Per-call ceilings. */
export type BudgetCeiling = 'metricsWindowMs';

export interface RunBudget {
  /** Counts one ctx call (in total and in flight); call the returned function when it ends. Throws BUDGET.HOST_CALLS / BUDGET.HOST_CALLS_IN_FLIGHT. */
  startCall(): () => void;
  /** Adds `amount` to a counter; throws BUDGET.<COUNTER> once it passes its limit (the amount is then not granted). */
  consume(counter: BudgetCounter, amount: number): void;
  /** Throws BUDGET.<CEILING> when one call asks for more than the ceiling (e.g. a metrics window). */
  ceiling(name: BudgetCeiling, value: number): void;
  usage(): RunBudgetUsage;
}

/** What the sandbox host runs: any capability, by name (the sandbox itself knows no contract). */
export type HostFunction = (scope: RunScope, ...args: unknown[]) => Promise<unknown>;
export type Capability = Record<string, HostFunction>;
/** `{ gateways: { list, get, setWeights }, … }` — the names become `ctx.gateways.list()`. */
export type Capabilities = Record<string, Capability>;

/** What the script sees as `ctx` besides the capabilities: plain copied data. */
export interface SandboxContextData {
  input: unknown;
  env: Record<string, unknown>;
  workflow: { name: string; version: number };
  run: { id: string; attempt: number; trigger: RunTrigger };
}

export interface SandboxLimits {
  /** Wall-clock deadline; past it the isolate is disposed, whatever it awaits. */
  timeoutMs: number;
  memoryMb: number;
  /** CPU time inside the isolate. */
  cpuMs: number;
  /** Largest result, as JSON bytes. */
  maxResultBytes: number;
  /** Log entries kept for the run; later calls are counted and reported in one final warn entry. Default: the host's `maxLogEntries`. */
  maxLogEntries?: number;
}

export interface SandboxRequest {
  /** The compiled script (types stripped, same line/column as the source). */
  code: string;
  context: SandboxContextData;
  limits: SandboxLimits;
  capabilities: Capabilities;
  scope: RunScope;
}

export type SandboxOutcome = { status: 'succeeded'; result: unknown } | { status: 'failed' | 'timed_out' | 'cancelled'; error: RunError };

/**
 * Runs one script execution in isolation. The isolated implementation runs isolates in
 * supervised child processes; a second, in-process one may exist for debugging.
 */
export interface SandboxHost {
  /** Never throws for anything the script does: every outcome is data. `signal` cancels. */
  run(request: SandboxRequest, signal?: AbortSignal): Promise<SandboxOutcome>;
  /** Stops the children; runs in flight end as cancelled. */
  close(): Promise<void>;
}
