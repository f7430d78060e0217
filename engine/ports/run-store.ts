import type { LogEntry, Run, RunStatus } from '../domain/run.ts';
import type { Quarantine } from './quarantine.ts';

/**
 * Run records and their logs. A run keeps the newest `history` runs per workflow (older
 * runs and their logs are deleted when a new one is created); a log is an append-only
 * sequence numbered from 1, capped per run (one final entry says the cap was hit).
 *
 * Errors: `NOT_FOUND` from `require`; `<STORE>.UNAVAILABLE` (retryable) when the backing
 * store cannot be reached.
 */
export interface RunStore {
  /** `active`: the run joins its workflow's active set in the same step. */
  create(run: Run, options?: { active?: boolean }): Promise<void>;
  get(id: string): Promise<Run | undefined>;
  /** Throws NotFoundError. */
  require(id: string): Promise<Run>;
  /** Newest first. Defaults: limit 50, offset 0. */
  list(workflow: string, options?: { limit?: number; offset?: number }): Promise<Run[]>;
  /**
   * Every workflow's runs, newest first by queue time. `limit` 50 (at most 200); `before` is a
   * `next` from an earlier page (opaque; VALIDATION if not). A filtered page may come back
   * short, with `next`, when the scan per call ran out: the client goes on from `next`.
   */
  listAll(options?: { limit?: number; before?: string; status?: RunStatus[]; workflow?: string }): Promise<{ runs: Run[]; next?: string }>;
  /** Applies `patch` only if the run's status is one of `from`; returns whether it did. */
  transition(id: string, from: readonly RunStatus[], patch: Partial<Run>): Promise<boolean>;
  /**
   * Starts the next attempt of a queued or running (interrupted) run in one step: status
   * running, attempts + 1, the first `startedAt` kept, `attemptStartedAt`, `engineId`, and
   * `interrupted` + 1 when found running. Returns the record as it was before: when that is
   * absent or final, nothing was changed. Read in the same step: the quarantine of the run's
   * workflow version (QuarantineStore.get's answer; null when there is none or the run did not
   * start), so an attempt's start costs one round trip.
   */
  begin(id: string, attempt: { at: string; engineId: string }): Promise<{ run: Run | undefined; quarantine: Quarantine | null }>;
  /**
   * The final transition: `transition`, and in the same step the run leaves its workflow's
   * active set (whether or not it applied) and, when applied, is counted in RunStats.
   */
  finish(id: string, workflow: string, from: readonly RunStatus[], patch: Partial<Run> & Pick<Run, 'status' | 'durationMs'>): Promise<boolean>;
  appendLog(id: string, entry: Omit<LogEntry, 'seq'>): Promise<void>;
  /** Entries with seq > `afterSeq` (default 0), at most `limit` (default 10 000). */
  readLog(id: string, options?: { afterSeq?: number; limit?: number }): Promise<LogEntry[]>;
  /**
   * The log from `fromSeq` on, live: each batch of new entries as it is appended. Ends
   * once the run is final and every entry has been yielded, or when `signal` aborts
   * (quietly). Followers share the store's blocking reads: their number does not add
   * connections to the backing store.
   */
  followLog(id: string, fromSeq: number, options: { signal: AbortSignal }): AsyncIterable<LogEntry[]>;

  /**
   * Makes starting idempotent: the first claim of (`workflow`, `key`) within `ttlMs`
   * records `runId` and wins; later claims lose and learn the winner's run id.
   */
  claimDedupe(workflow: string, key: string, runId: string, ttlMs: number): Promise<{ claimed: true } | { claimed: false; runId?: string }>;
  /** The set of a workflow's queued or running run ids (for `overlap`). */
  addActive(workflow: string, runId: string): Promise<void>;
  removeActive(workflow: string, runId: string): Promise<void>;
  activeIds(workflow: string): Promise<string[]>;
}
