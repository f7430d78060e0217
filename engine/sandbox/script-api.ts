import type { RunTrigger } from '../domain/run.ts';

/**
 * Types for workflow authors: `import type { ScriptContext } from '…/engine/sandbox/script-api.ts'`
 * (type-only imports are erased at upload; value imports are refused). Describes what the
 * sandbox puts in `ctx`; capabilities are added per workflow, e.g.
 * `ScriptContext<{ weights: number[] }, { state: StateCapability }>`.
 */
export interface ScriptLog {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface StateCapability {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
}

export type ScriptContext<Input = unknown, Capabilities extends object = { state: StateCapability }> = {
  /** Copies: changing them changes nothing outside the run. */
  readonly input: Input;
  readonly env: Record<string, string | number | boolean | null>;
  readonly workflow: { name: string; version: number };
  readonly run: { id: string; attempt: number; trigger: RunTrigger };
  /** The run's log (entries are capped per run; long messages are cut). */
  readonly log: ScriptLog;
  /** Waits on a host timer; there is no setTimeout in the sandbox. Bounded by the run's deadline. */
  sleep(ms: number): Promise<void>;
} & Readonly<Capabilities>;

/** The shape of a workflow script's default export. */
export type ScriptMain<Input = unknown, Result = unknown> = (ctx: ScriptContext<Input>) => Promise<Result> | Result;
