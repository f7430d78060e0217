import type { Signal } from '../domain/signal.ts';

/**
 * Each workflow's signal inbox. `take` moves the oldest matching signal from the inbox to
 * the taking run; the run's end settles it: `commit` (the run succeeded) forgets what it
 * took, `restore` (it failed, timed out, was cancelled or its engine died) puts it back in
 * the inbox at its old place. Deleting the workflow deletes its inbox.
 *
 * Errors: `SIGNAL.INBOX_FULL` (409) from `send` past SIGNAL_INBOX_MAX pending;
 * `<STORE>.UNAVAILABLE` (retryable).
 */
export interface SignalStore {
  /** Stores a signal; undefined when the workflow does not exist (checked atomically with the write). */
  send(workflow: string, signal: { name: string; value: unknown; sentBy: string }): Promise<Signal | undefined>;
  /** Pending signals, oldest first (taken ones excluded until restored). */
  pending(workflow: string): Promise<Signal[]>;
  /** The oldest pending signal (named `name`, if given), now held by `runId`; undefined when none. */
  take(workflow: string, runId: string, name?: string): Promise<Signal | undefined>;
  /** The oldest pending signal (named `name`) without taking it, skipping ids in `except` (dry runs). */
  peek(workflow: string, name?: string, except?: readonly string[]): Promise<Signal | undefined>;
  /** Forgets the signals `runId` took; returns how many. */
  commit(workflow: string, runId: string): Promise<number>;
  /** Returns the signals `runId` took to the inbox, in their old order; returns how many. */
  restore(workflow: string, runId: string): Promise<number>;
}
