import type { Run } from '../domain/run.ts';
import type { Coordination } from '../ports/coordination.ts';
import type { RunQueue } from '../ports/run-queue.ts';
import type { RunStore } from '../ports/run-store.ts';
import { ConflictError } from '../shared/errors.ts';

/**
 * Cancels a run wherever it is: a queued run is removed from the queue and marked
 * cancelled here; a running one is announced on the `RUN_CANCEL_CHANNEL` signal, and the
 * engine process executing it aborts its sandbox (see engine-runtime.ts).
 */
export interface RunCanceller {
  cancel(runId: string, reason?: string): Promise<Run>;
}

/** Signal channel of cancellations; message: JSON `{ runId, reason }`. */
export const RUN_CANCEL_CHANNEL = 'runs:cancel';

export function createRunCanceller(options: { runs: RunStore; queue: RunQueue; coordination: Pick<Coordination, 'signal'> }): RunCanceller {
  const { runs, queue, coordination } = options;
  const announce = (runId: string, reason: string) => coordination.signal(RUN_CANCEL_CHANNEL, JSON.stringify({ runId, reason }));
  return {
    async cancel(runId, reason = 'cancelled by request') {
      const run = await runs.require(runId);
      if (run.status === 'queued') {
        await queue.removeWaiting(runId);
        const now = new Date().toISOString();
        const done = await runs.transition(runId, ['queued'], {
          status: 'cancelled',
          finishedAt: now,
          error: { code: 'RUN.CANCELLED', message: reason },
        });
        if (done) {
          await runs.removeActive(run.workflow, runId);
          // An engine may have dequeued it in the same instant; tell it too.
          await announce(runId, reason);
          return runs.require(runId);
        }
      }
      const latest = await runs.require(runId);
      if (latest.status === 'running' || latest.status === 'queued') {
        await announce(runId, reason);
        return latest;
      }
      throw new ConflictError(`run ${runId} already ended as ${latest.status}; only queued or running runs can be cancelled`, { status: latest.status });
    },
  };
}
