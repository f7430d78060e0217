/**
 * Quarantine of workflow versions whose runs keep killing their sandbox process (a V8 abort,
 * the per-process memory cap, a process that stopped answering). Keyed by workflow and
 * version: uploading a new version is how a user releases it.
 */
export interface Quarantine {
  workflow: string;
  version: number;
  /** Why, for the user: how many process kills in what window, and the last one's error. */
  reason: string;
  /** ISO time it was quarantined. */
  since: string;
  /** Process kills counted within the window when it was quarantined. */
  crashes: number;
  /** The run whose kill tipped it over. */
  runId: string;
}

export interface QuarantineStore {
  /** Counts one process-killing run of a version; answers how many there were in the last `windowMs`, this one included. */
  recordCrash(workflow: string, version: number, runId: string, windowMs: number): Promise<number>;
  /** Quarantines a version; false when it already was (so it is announced once). */
  quarantine(entry: Quarantine): Promise<boolean>;
  /** The version's quarantine, if it is in one. */
  get(workflow: string, version: number): Promise<Quarantine | undefined>;
}
