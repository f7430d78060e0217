import type { Run } from '../../engine/domain/run.ts';
import { WorkflowSpecSchema, type Workflow, type WorkflowSpecInput } from '../../engine/domain/workflow.ts';
import type { RunLauncher, StartRunOptions, StartRunResult } from '../../engine/runs/launcher.ts';
import { UnavailableError } from '../../engine/shared/errors.ts';

export interface StartCall {
  workflow: string;
  options: StartRunOptions;
  at: number;
}

/**
 * A RunLauncher that records every call and dedupes per workflow and key, like the real one
 * (both pass test/contract/run-launcher.contract.ts). It does not model workflow settings
 * (overlap, enabled): every start without a known key starts.
 */
export interface FakeLauncher extends RunLauncher {
  calls: StartCall[];
  started: StartCall[];
  /** The next `n` calls throw a retryable error (a launcher whose Redis is down). */
  failNext(n: number): void;
}

export function createFakeLauncher(): FakeLauncher {
  const calls: StartCall[] = [];
  const started: StartCall[] = [];
  /** Dedupe key → the id of the run it started. */
  const keys = new Map<string, string>();
  let failures = 0;
  return {
    calls,
    started,
    failNext(n) {
      failures = n;
    },
    async start(workflow, options): Promise<StartRunResult> {
      const call = { workflow, options, at: performance.now() };
      calls.push(call);
      if (failures > 0) {
        failures--;
        throw new UnavailableError('REDIS.UNAVAILABLE', 'fake launcher: Redis unavailable (test switch)');
      }
      const key = options.dedupeKey === undefined ? undefined : `${workflow}|${options.dedupeKey}`;
      const winner = key === undefined ? undefined : keys.get(key);
      if (winner !== undefined) return { started: false, reason: 'duplicate', runId: winner };
      started.push(call);
      const run = {
        id: `run-${started.length}`,
        workflow,
        workflowVersion: 1,
        status: 'queued',
        trigger: options.trigger,
        input: options.input ?? null,
        attempts: 0,
        maxAttempts: 1,
        queuedAt: new Date().toISOString(),
      } satisfies Run;
      if (key !== undefined) keys.set(key, run.id);
      return { started: true, run, queued: false };
    },
  };
}

export function workflow(name: string, spec: Partial<WorkflowSpecInput>): Workflow {
  const parsed = WorkflowSpecSchema.parse({ script: 'return 1', ...spec });
  const now = new Date().toISOString();
  return { ...parsed, name, version: 1, compiled: parsed.script, createdAt: now, updatedAt: now };
}

/** A mutable workflow list with the WorkflowStore's change signal. */
export function workflowList(initial: Workflow[]) {
  let items = initial;
  const listeners = new Set<(name: string) => void>();
  return {
    async list() {
      return items;
    },
    subscribe(l: (name: string) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    set(next: Workflow[]) {
      items = next;
      for (const l of listeners) l('*');
    },
  };
}
