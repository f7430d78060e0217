/**
 * The run queue: at-least-once delivery of run ids to engine workers, with retries and
 * exponential backoff. A job's id is the run id (or `jobId`), so the queue never holds
 * two jobs for one run; the run record (RunStore) is the source of truth.
 *
 * Fairness: a job may belong to a group (a workflow) with a concurrency. At most that many
 * jobs of a group are processed at once across every worker; a worker that takes one more
 * sets it aside without spending an attempt (it waits, not fails) and moves on, so jobs of
 * other groups behind a group's backlog still get the free slots. A set-aside job is taken
 * again when a job of its group ends (or, should that wake-up be lost, after a while).
 */
export interface JobGroup {
  /** Jobs with the same id share the concurrency. */
  id: string;
  /** How many of the group's jobs may be processed at once (≥ 1). */
  concurrency: number;
}

export interface EnqueueOptions {
  /** Total attempts for this job. */
  attempts: number;
  /** First retry delay; doubled each retry. */
  backoffMs: number;
  /** A second job for the same run needs its own id. Default: the run id. */
  jobId?: string;
  /** Absent: the job is limited only by the workers' own concurrency. */
  group?: JobGroup;
  /** Handed to the processor as `RunJob.versionStamp` (which stored version the run was queued for). */
  versionStamp?: string;
}

export interface RunJob {
  runId: string;
  /** Attempts already made before this one (failures, not stalls). */
  attemptsMade: number;
  maxAttempts: number;
  versionStamp?: string;
}

/** What a processor asks for: the job is over, or it should be tried again (with backoff, while attempts remain). */
/**
 * `retry`: a failed attempt (the queue backs off while attempts remain). `later`: the attempt
 * could not reach the store; run the job again shortly without spending an attempt.
 */
export type RunJobOutcome = 'done' | 'retry' | 'later';

export interface RunWorkerOptions {
  concurrency: number;
  /** A job whose worker stops renewing its lock this long is handed to another worker. */
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** Holds every group's concurrency to at most this (the operator's ceiling). Default: none. */
  maxGroupConcurrency?: number;
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
  /**
   * Frees the group slot a run's job holds now, rather than when its lease runs out: its
   * engine is gone (no heartbeat) and the run was ended. Waiting jobs of the group are woken.
   */
  releaseGroupSlot(runId: string, group: JobGroup): Promise<void>;
  /** Removes a job that has not started; false when it is running or gone. */
  removeWaiting(runId: string): Promise<boolean>;
  counts(): Promise<Record<'waiting' | 'active' | 'delayed' | 'failed' | 'completed', number>>;
  /** Starts a worker on its own connections. */
  work(options: RunWorkerOptions): RunWorker;
  close(): Promise<void>;
}
