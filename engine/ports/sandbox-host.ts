import type { RunError, RunTrigger } from '../domain/run.ts';
import type { Capabilities, RunScope } from '../sandbox/capabilities.ts';

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

export type SandboxOutcome =
  | { status: 'succeeded'; result: unknown }
  | { status: 'failed' | 'timed_out' | 'cancelled'; error: RunError };

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
