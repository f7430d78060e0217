import type { LogLevel } from '../domain/run.ts';
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
}

export type HostFunction = (scope: RunScope, ...args: unknown[]) => Promise<unknown>;
export type Capability = Record<string, HostFunction>;
/** `{ gateways: { list, get, setWeights }, … }` — the names become `ctx.gateways.list()`. */
export type Capabilities = Record<string, Capability>;
