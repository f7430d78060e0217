import { randomUUID } from 'node:crypto';
import { DEFAULT_WORKFLOW_CONCURRENCY } from '../domain/ceilings.ts';
import type { Run } from '../domain/run.ts';
import type { RunQueue } from '../ports/run-queue.ts';
import type { RunStore } from '../ports/run-store.ts';
import type { WorkflowStore } from '../ports/workflow-store.ts';
import type { Logger } from '../shared/logger.ts';
import type { RunCanceller } from './run-canceller.ts';
import type { RunLauncher } from './launcher.ts';

/** How long a dedupe key (cron tick, event id) is remembered. */
const DEDUPE_TTL_MS = 7 * 24 * 3600_000;

/** Run ids sort by creation time, which keeps logs and listings readable. */
export function newRunId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${randomUUID().slice(0, 8)}`;
}

export function createRunLauncher(options: {
  workflows: WorkflowStore;
  runs: RunStore;
  queue: RunQueue;
  canceller: RunCanceller;
  logger: Logger;
}): RunLauncher {
  const { workflows, runs, queue, canceller, logger } = options;
  return {
    async start(name, opts) {
      const wf = await workflows.require(name);
      const manual = opts.trigger.type === 'manual';
      if (!manual && !wf.enabled) return { started: false, reason: 'disabled' };
      const id = newRunId();
      if (opts.dedupeKey) {
        const claim = await runs.claimDedupe(name, opts.dedupeKey, id, DEDUPE_TTL_MS);
        if (!claim.claimed) return { started: false, reason: 'duplicate', runId: claim.runId };
      }
      // Overlap governs automatic starts; a person asking for a run gets one.
      if (!manual && wf.overlap !== 'allow') {
        const active = await activeRuns(name);
        if (active.length > 0) {
          if (wf.overlap === 'skip') {
            logger.info({ workflow: name, trigger: opts.trigger, active }, 'run skipped: previous run still active (overlap: skip)');
            return { started: false, reason: 'overlap', runId: active[0] };
          }
          for (const runId of active) await canceller.cancel(runId, 'replaced by a newer run (overlap: replace)');
        }
      }
      const run: Run = {
        id,
        workflow: name,
        workflowVersion: wf.version,
        status: 'queued',
        trigger: opts.trigger,
        input: opts.input ?? null,
        attempts: 0,
        maxAttempts: wf.retries.attempts,
        queuedAt: new Date().toISOString(),
      };
      await runs.create(run);
      await runs.addActive(name, id);
      // The workflow is the fairness group: its runs beyond `limits.concurrency` wait, and
      // other workflows' runs take the free slots (engine/ports/run-queue.ts).
      await queue.enqueue(id, {
        attempts: wf.retries.attempts,
        backoffMs: wf.retries.backoffMs,
        group: { id: name, concurrency: wf.limits.concurrency ?? DEFAULT_WORKFLOW_CONCURRENCY },
      });
      return { started: true, run };
    },
  };

  /** Active ids, dropping any whose record is final or gone (a crash between steps). */
  async function activeRuns(name: string): Promise<string[]> {
    const ids = await runs.activeIds(name);
    const live: string[] = [];
    for (const id of ids) {
      const run = await runs.get(id);
      if (run && (run.status === 'queued' || run.status === 'running')) live.push(id);
      else await runs.removeActive(name, id);
    }
    return live;
  }
}
