/**
 * Per-workflow script state (`ctx.state`): small JSON values by key, kept across runs.
 * Limits (`STATE_LIMITS`) are enforced by every implementation with a `VALIDATION` error
 * naming the key.
 */
export interface StateStore {
  /** undefined when the key is absent. */
  get(workflow: string, key: string): Promise<unknown>;
  set(workflow: string, key: string, value: unknown): Promise<void>;
  /** Whether the key existed. */
  delete(workflow: string, key: string): Promise<boolean>;
  all(workflow: string): Promise<Record<string, unknown>>;
  /** Deletes every key; returns how many there were. */
  clear(workflow: string): Promise<number>;
}

export const STATE_LIMITS = { keyBytes: 256, valueBytes: 64 * 1024, keys: 1000 };
