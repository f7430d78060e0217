/**
 * OnceKeys: "has this been seen?" keys that expire, for de-duplicating deliveries from
 * outside (Alertmanager re-sends a firing alert every group_interval/repeat_interval).
 *
 * Errors: `<STORE>.UNAVAILABLE` (retryable) when the backing store cannot be reached.
 */
export interface OnceKeys {
  /** True the first time `key` is claimed within `ttlMs`; false while it is held. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Forgets a claim (the work it guarded failed, so a re-send must be taken). */
  release(key: string): Promise<void>;
}
