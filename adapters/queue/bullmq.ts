import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EnqueueOptions, JobGroup, RunQueue, RunWorker, RunWorkerOptions } from '../../engine/ports/run-queue.ts';
import { guarded } from '../redis/errors.ts';
import { createGroupRelease, createGroupSlots, type GroupRelease } from './group-slots.ts';

/**
 * The run queue on BullMQ — the only file that imports it. A run is a job whose id is the
 * run id, so the queue never holds two jobs for one run; job data is the run id and its
 * group (the run record is the source of truth), and finished jobs are removed at once.
 *
 * Groups (open-source BullMQ has none): a worker that takes a job whose group is full
 * moves it to the delayed set itself (`moveToDelayed` with its lock token, which spends
 * no attempt) and parks it in group-slots.ts; the job that frees a slot promotes the
 * oldest parked one, which re-enters the wait list at its back — behind the jobs of other
 * groups that were waiting meanwhile. A parked job whose wake-up was lost (an engine died
 * between the two) comes back by itself after `parkMs`.
 */
export interface BullmqRunQueueOptions {
  /** The process's command connection (queue operations). */
  connection: Redis;
  /** A new connection per worker (BullMQ blocks on it); the worker disconnects it on close. */
  connect: () => Redis;
  /** Key prefix; BullMQ's keys are `<prefix>:<queue>:*`. */
  prefix: string;
  onError?: (err: Error) => void;
  /** How long a parked job waits at most before it is tried again without a wake-up (ms). Default 5000. */
  parkMs?: number;
}

interface RunJobData {
  runId: string;
  group?: JobGroup;
  /** EnqueueOptions.versionStamp. */
  v?: string;
}

const QUEUE_NAME = 'runs';

export function createBullmqRunQueue(options: BullmqRunQueueOptions): RunQueue {
  const queue = new Queue<RunJobData>(QUEUE_NAME, { connection: options.connection, prefix: options.prefix });
  // Without a listener BullMQ prints every reconnect failure to stderr.
  queue.on('error', (err) => options.onError?.(err));
  const groups = createGroupRelease({ redis: options.connection, prefix: `${options.prefix}:${QUEUE_NAME}` });
  const wake = wakeParked(queue, groups, (err) => options.onError?.(err));
  // The operator's ceiling is known once a worker runs in this process; until then the
  // group's own concurrency (waking one job too many only makes it park again).
  let maxGroupConcurrency = Infinity;
  const ops = guarded('run queue', {
    async enqueue(runId: string, opts: EnqueueOptions) {
      const data: RunJobData = { runId };
      if (opts.group) data.group = { id: opts.group.id, concurrency: opts.group.concurrency };
      if (opts.versionStamp) data.v = opts.versionStamp;
      await queue.add('run', data, {
        jobId: opts.jobId ?? runId,
        attempts: opts.attempts,
        backoff: { type: 'exponential', delay: opts.backoffMs },
        // The run record keeps history; BullMQ's copies would only grow Redis.
        removeOnComplete: true,
        removeOnFail: true,
      });
    },
    async releaseGroupSlot(runId: string, group: JobGroup) {
      const limit = Math.max(1, Math.min(group.concurrency, maxGroupConcurrency));
      await wake(group.id, limit, await groups.release(group.id, runId, limit));
    },
    async removeWaiting(runId: string) {
      const job = await queue.getJob(runId);
      if (!job) return false;
      const state = await job.getState();
      if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return false;
      try {
        await job.remove();
        return true;
      } catch {
        return false; // picked up meanwhile
      }
    },
    async counts() {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      return { waiting: c.waiting ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0, completed: c.completed ?? 0 };
    },
  });
  return {
    ...ops,
    work: (o) => {
      maxGroupConcurrency = Math.min(maxGroupConcurrency, o.maxGroupConcurrency ?? Infinity);
      return startWorker(options, queue, o);
    },
    close: () => queue.close(),
  };
}

function startWorker(options: BullmqRunQueueOptions, queue: Queue<RunJobData>, o: RunWorkerOptions): RunWorker {
  const connection = options.connect();
  const parkMs = options.parkMs ?? 5000;
  const slots = createGroupSlots({
    redis: options.connection,
    prefix: `${options.prefix}:${QUEUE_NAME}`,
    leaseMs: o.lockDurationMs,
    ttlMs: Math.max(o.lockDurationMs, parkMs) * 4,
  });
  const wake = wakeParked(queue, slots, (err) => o.onError?.(err));
  const limitOf = (g: JobGroup) => Math.max(1, Math.min(g.concurrency, o.maxGroupConcurrency ?? Infinity));

  const worker = new Worker<RunJobData>(
    QUEUE_NAME,
    async (job: Job<RunJobData>, token?: string) => {
      const group = job.data.group;
      const jobId = job.id ?? job.data.runId;
      if (group && !(await slots.acquire(group.id, jobId, limitOf(group)))) {
        // Full: set aside without spending an attempt; this worker slot takes the next job.
        await job.moveToDelayed(Date.now() + parkMs, token);
        // Unparked (Redis failing), it still comes back when its delay ends.
        const room = await slots.park(group.id, jobId, limitOf(group)).catch(() => []);
        void wake(group.id, limitOf(group), room);
        throw new DelayedError();
      }
      const renew = group && setInterval(() => void slots.renew(group.id, jobId).catch(() => undefined), Math.max(100, o.lockDurationMs / 3));
      let outcome;
      try {
        outcome = await o.process({ runId: job.data.runId, attemptsMade: job.attemptsMade, maxAttempts: job.opts.attempts ?? 1, versionStamp: job.data.v });
      } finally {
        if (renew) clearInterval(renew);
        if (group) {
          // A failed release only delays the next parked job (its lease expires, its park ends).
          await slots.release(group.id, jobId, limitOf(group)).then(
            (ids) => wake(group.id, limitOf(group), ids),
            (err: Error) => o.onError?.(err),
          );
        }
      }
      // 'retry' is a failed attempt: BullMQ backs off while attempts remain. 'done' completes
      // the job whatever the run's status (the run record says how it ended).
      if (outcome === 'retry') throw new Error(`run ${job.data.runId}: attempt failed; retrying`);
      if (outcome === 'later') {
        // As a parked job: set aside for a moment, no attempt spent.
        await job.moveToDelayed(Date.now() + 1000, token);
        throw new DelayedError();
      }
    },
    {
      connection,
      prefix: options.prefix,
      concurrency: o.concurrency,
      lockDuration: o.lockDurationMs,
      stalledInterval: o.stalledIntervalMs,
      // A run interrupted by an engine crash is picked up again, more than once if needed.
      maxStalledCount: 5,
      autorun: true,
    },
  );
  worker.on('error', (err) => o.onError?.(err));
  return {
    ready: async () => {
      await worker.waitUntilReady();
    },
    healthy() {
      // BullMQ workers have failed to resume after a Redis outage while PING still
      // answered (bullmq#4585): look at the blocking connection itself.
      const backend = (worker as unknown as { backend?: { blockingConnection?: { _client?: { status?: unknown } } } }).backend;
      const status = backend?.blockingConnection?._client?.status;
      const blockingOk = typeof status === 'string' ? status === 'ready' : true;
      return worker.isRunning() && !worker.closing && blockingOk;
    },
    async close(force) {
      await worker.close(force);
      // BullMQ leaves connections it was given open.
      connection.disconnect();
    },
  };
}

/**
 * Promotes parked jobs back to the wait list. A popped job may be gone (cancelled) or no
 * longer delayed (its park ended by itself); then the room it was popped for goes to the
 * next parked job, a bounded number of times.
 */
function wakeParked(queue: Queue<RunJobData>, slots: GroupRelease, onError: (err: Error) => void) {
  return async (group: string, limit: number, ids: string[]): Promise<void> => {
    try {
      for (let round = 0; ids.length > 0 && round < 10; round++) {
        let woken = 0;
        for (const id of ids) if (await promote(queue, id)) woken++;
        if (woken === ids.length) return;
        ids = await slots.room(group, limit);
      }
    } catch (err) {
      onError(err as Error);
    }
  };
}

async function promote(queue: Queue<RunJobData>, id: string): Promise<boolean> {
  const job = await queue.getJob(id);
  if (!job) return false;
  try {
    await job.promote();
    return true;
  } catch {
    return false; // not delayed any more: already back in the wait list, or running
  }
}
