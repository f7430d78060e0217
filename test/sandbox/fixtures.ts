import type { LogLevel } from '../../engine/domain/run.ts';
import type { Capabilities, RunScope } from '../../engine/sandbox/capabilities.ts';
import type { SandboxContextData, SandboxHost, SandboxLimits, SandboxOutcome } from '../../engine/ports/sandbox-host.ts';
import { compileScript } from '../../engine/sandbox/compile.ts';

export interface LogCall {
  level: LogLevel;
  message: string;
  fields?: Record<string, unknown>;
}

export const LIMITS: SandboxLimits = { timeoutMs: 5000, memoryMb: 64, cpuMs: 3000, maxResultBytes: 1024 * 1024 };

export function makeContext(input: unknown = null): SandboxContextData {
  return {
    input,
    env: { REGION: 'eu-west-1', FLAG: true },
    workflow: { name: 'canary', version: 3 },
    run: { id: 'run-1', attempt: 1, trigger: { type: 'manual' } },
  };
}

export function makeScope(logs: LogCall[] = []): RunScope {
  return {
    runId: 'run-1',
    attempt: 1,
    workflow: { name: 'canary', version: 3, permissions: { gateways: [], deployments: {} } },
    log: (level, message, fields) => {
      logs.push(fields === undefined ? { level, message } : { level, message, fields });
    },
    signal: new AbortController().signal,
    deadline: Date.now() + 60_000,
  };
}

export interface RunScriptOptions {
  input?: unknown;
  limits?: Partial<SandboxLimits>;
  capabilities?: Capabilities;
  logs?: LogCall[];
  signal?: AbortSignal;
  /** Skip compileScript (to hand the sandbox code the API would have refused). */
  raw?: boolean;
}

/** Compiles `source` as an upload would and runs it once. */
export function runScript(sandbox: SandboxHost, source: string, options: RunScriptOptions = {}): Promise<SandboxOutcome> {
  const code = options.raw ? source : compileScript(source);
  return sandbox.run(
    {
      code,
      context: makeContext(options.input ?? null),
      limits: { ...LIMITS, ...options.limits },
      capabilities: options.capabilities ?? {},
      scope: makeScope(options.logs),
    },
    options.signal,
  );
}

/** The result of a run that must have succeeded (with the outcome in the failure message). */
export function resultOf(outcome: SandboxOutcome): unknown {
  if (outcome.status !== 'succeeded') throw new Error(`expected success, got ${JSON.stringify(outcome)}`);
  return outcome.result;
}
