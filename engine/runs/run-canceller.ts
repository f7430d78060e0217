import type { Redis } from 'ioredis';
import type { Run } from '../domain/run.ts';
import { ConflictError } from '../shared/errors.ts';
import type { RunQueue } from '../queue/run-queue.ts';
import type { Keys } from '../store/keys.ts';
import type { RunStore } from '../store/run-store.ts';

/**
 * Cancels a run wherever it is: a queued run is removed from the queue and marked
 * cancelled here; a running one is announced on `runs:cancel`, and the engine process
 * executing it aborts its sandbox (see run-executor.ts).
 */
export interface RunCanceller {
  cancel(runId: string, reason?: string): Promise<Run>;
}

export function createRunCanceller(options: { redis: Redis; keys: Keys; runs: RunStore; queue: RunQueue }): RunCanceller {
  const { redis, keys, runs, queue } = options;
  return {
    async cancel(runId, reason = 'cancelled by request') {
      const run = await runs.require(runId);
      if (run.status === 'queued') {
        await queue.removeWaiting(runId);
        const now = new Date().toISOString();
        const done = await runs.transition(runId, ['queued'], {
          status: 'cancelled', finishedAt: now, error: { code: 'RUN.CANCELLED', message: reason },
        });
        if (done) {
          await redis.srem(keys.workflowActive(run.workflow), runId);
          // An engine may have dequeued it in the same instant; tell it too.
          await redis.publish(keys.runCancel, JSON.stringify({ runId, reason }));
          return runs.require(runId);
        }
      }
      const latest = await runs.require(runId);
      if (latest.status === 'running' || latest.status === 'queued') {
        await redis.publish(keys.runCancel, JSON.stringify({ runId, reason }));
        return latest;
      }
      throw new ConflictError(`run ${runId} already ended as ${latest.status}; only queued or running runs can be cancelled`, { status: latest.status });
    },
  };
}
