import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunQueue, RunWorker, RunWorkerOptions } from '../../engine/ports/run-queue.ts';
import { guarded } from '../redis/errors.ts';

/**
 * The run queue on BullMQ — the only file that imports it. A run is a job whose id is the
 * run id, so the queue never holds two jobs for one run; job data is just the run id (the
 * run record is the source of truth), and finished jobs are removed at once.
 */
export interface BullmqRunQueueOptions {
  /** The process's command connection (queue operations). */
  connection: Redis;
  /** A new connection per worker (BullMQ blocks on it); the worker disconnects it on close. */
  connect: () => Redis;
  /** Key prefix; BullMQ's keys are `<prefix>:<queue>:*`. */
  prefix: string;
  onError?: (err: Error) => void;
}

interface RunJobData {
  runId: string;
}

const QUEUE_NAME = 'runs';

export function createBullmqRunQueue(options: BullmqRunQueueOptions): RunQueue {
  const queue = new Queue<RunJobData>(QUEUE_NAME, { connection: options.connection, prefix: options.prefix });
  // Without a listener BullMQ prints every reconnect failure to stderr.
  queue.on('error', (err) => options.onError?.(err));
  const ops = guarded('run queue', {
    async enqueue(runId: string, opts: { attempts: number; backoffMs: number; jobId?: string }) {
      await queue.add(
        'run',
        { runId },
        {
          jobId: opts.jobId ?? runId,
          attempts: opts.attempts,
          backoff: { type: 'exponential', delay: opts.backoffMs },
          // The run record keeps history; BullMQ's copies would only grow Redis.
          removeOnComplete: true,
          removeOnFail: true,
        },
      );
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
    work: (o) => startWorker(options, o),
    close: () => queue.close(),
  };
}

function startWorker(options: BullmqRunQueueOptions, o: RunWorkerOptions): RunWorker {
  const connection = options.connect();
  const worker = new Worker<RunJobData>(
    QUEUE_NAME,
    async (job: Job<RunJobData>) => {
      const outcome = await o.process({ runId: job.data.runId, attemptsMade: job.attemptsMade, maxAttempts: job.opts.attempts ?? 1 });
      // 'retry' is a failed attempt: BullMQ backs off while attempts remain. 'done' completes
      // the job whatever the run's status (the run record says how it ended).
      if (outcome === 'retry') throw new Error(`run ${job.data.runId}: attempt failed; retrying`);
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
