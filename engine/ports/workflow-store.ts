import type { Workflow, WorkflowPause, WorkflowSpec } from '../domain/workflow.ts';

export interface WorkflowVersionInfo {
  version: number;
  createdAt: string;
}

/**
 * Workflows and every version of them. `put` assigns the next version number atomically
 * (concurrent puts never share one). A change in any process is announced to every
 * `subscribe`r, so triggers refresh at once.
 *
 * Errors: `NOT_FOUND` from `require`; `<STORE>.UNAVAILABLE` (retryable).
 */
export interface WorkflowStore {
  put(name: string, spec: WorkflowSpec, compiled: string): Promise<Workflow>;
  get(name: string): Promise<Workflow | undefined>;
  /** Throws NotFoundError. */
  require(name: string): Promise<Workflow>;
  getVersion(name: string, version: number): Promise<Workflow | undefined>;
  versions(name: string): Promise<WorkflowVersionInfo[]>;
  /** Sorted by name. */
  list(): Promise<Workflow[]>;
  /** Removes the workflow with its versions, state, signals, trigger bookkeeping and dedupe keys; false if absent. Leaves a tombstone (`deletedAt`). */
  delete(name: string): Promise<boolean>;
  /** When the workflow was last deleted (kept 30 days), so a late signal is told "deleted" (409) rather than "unknown" (404). */
  deletedAt(name: string): Promise<string | undefined>;
  /**
   * Pauses (`pause`) or resumes (null) the workflow's triggers without a new version; `get` and
   * `list` then carry `paused`. Announced like any change. Throws NotFoundError.
   */
  setPaused(name: string, pause: WorkflowPause | null): Promise<Workflow>;
  /** Calls `listener` whenever any workflow changes in any process; returns an unsubscribe. */
  subscribe(listener: (name: string) => void): () => void;
}
