import { Queue, Worker, type Job, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * The only module that imports BullMQ. A run is a job whose id is the run id, so the
 * queue never holds two jobs for one run; job data is just the run id (the run record in
 * Redis is the source of truth).
 */
export interface RunJobData {
  runId: string;
}

export interface EnqueueOptions {
  attempts: number;
  backoffMs: number;
  /** A second job for the same run needs its own id (BullMQ keeps one job per id). Default: the run id. */
  jobId?: string;
}

export interface RunQueue {
  enqueue(runId: string, options: EnqueueOptions): Promise<void>;
  /** Removes a job that has not started; false when it is running or gone. */
  removeWaiting(runId: string): Promise<boolean>;
  counts(): Promise<Record<'waiting' | 'active' | 'delayed' | 'failed' | 'completed', number>>;
  close(): Promise<void>;
}

export const QUEUE_NAME = 'runs';

export function createRunQueue(options: { connection: Redis; prefix: string; onError?: (err: Error) => void }): RunQueue {
  const queue = new Queue<RunJobData>(QUEUE_NAME, { connection: options.connection, prefix: options.prefix });
  // Without a listener BullMQ prints every reconnect failure to stderr.
  queue.on('error', (err) => options.onError?.(err));
  return {
    async enqueue(runId, opts) {
      await queue.add('run', { runId }, {
        jobId: opts.jobId ?? runId,
        attempts: opts.attempts,
        backoff: { type: 'exponential', delay: opts.backoffMs },
        // The run record keeps history; BullMQ's copies would only grow Redis.
        removeOnComplete: true,
        removeOnFail: true,
      });
    },
    async removeWaiting(runId) {
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
    close: () => queue.close(),
  };
}

export interface RunJob {
  runId: string;
  /** BullMQ attempts already made before this one (failures, not stalls). */
  attemptsMade: number;
  maxAttempts: number;
}

/** Thrown by the processor to stop retries (cancelled, invalid workflow). */
export class NoRetryError extends UnrecoverableError {}

export interface RunWorker {
  /** Resolves once the worker's connections are ready. */
  ready(): Promise<void>;
  /** True while the worker runs and its blocking Redis connection is ready. */
  healthy(): boolean;
  close(force?: boolean): Promise<void>;
}

export function createRunWorker(options: {
  connection: Redis;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  process: (job: RunJob) => Promise<void>;
  onError?: (err: Error) => void;
}): RunWorker {
  const worker = new Worker<RunJobData>(
    QUEUE_NAME,
    async (job: Job<RunJobData>) => {
      await options.process({ runId: job.data.runId, attemptsMade: job.attemptsMade, maxAttempts: job.opts.attempts ?? 1 });
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // A run interrupted by an engine crash is picked up again, more than once if needed.
      maxStalledCount: 5,
      autorun: true,
    },
  );
  worker.on('error', (err) => options.onError?.(err));
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
    close: (force) => worker.close(force),
  };
}
