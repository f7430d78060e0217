/**
 * The run queue: at-least-once delivery of run ids to engine workers, with retries and
 * exponential backoff. A job's id is the run id (or `jobId`), so the queue never holds
 * two jobs for one run; the run record (RunStore) is the source of truth.
 */
export interface EnqueueOptions {
  /** Total attempts for this job. */
  attempts: number;
  /** First retry delay; doubled each retry. */
  backoffMs: number;
  /** A second job for the same run needs its own id. Default: the run id. */
  jobId?: string;
}

export interface RunJob {
  runId: string;
  /** Attempts already made before this one (failures, not stalls). */
  attemptsMade: number;
  maxAttempts: number;
}

/** What a processor asks for: the job is over, or it should be tried again (with backoff, while attempts remain). */
export type RunJobOutcome = 'done' | 'retry';

export interface RunWorkerOptions {
  concurrency: number;
  /** A job whose worker stops renewing its lock this long is handed to another worker. */
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** A throw counts as 'retry'. */
  process: (job: RunJob) => Promise<RunJobOutcome>;
  onError?: (err: Error) => void;
}

export interface RunWorker {
  /** Resolves once the worker's connections are ready. */
  ready(): Promise<void>;
  /** True while the worker runs and its blocking connection is ready (not just PING). */
  healthy(): boolean;
  /** Waits for running jobs; `force` abandons them (another worker resumes them). */
  close(force?: boolean): Promise<void>;
}

export interface RunQueue {
  enqueue(runId: string, options: EnqueueOptions): Promise<void>;
  /** Removes a job that has not started; false when it is running or gone. */
  removeWaiting(runId: string): Promise<boolean>;
  counts(): Promise<Record<'waiting' | 'active' | 'delayed' | 'failed' | 'completed', number>>;
  /** Starts a worker on its own connections. */
  work(options: RunWorkerOptions): RunWorker;
  close(): Promise<void>;
}
