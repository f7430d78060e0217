export type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/**
 * Thrown by a check to stop waiting at once: the condition can no longer come true (the server
 * being waited for has exited). Any other error only means "not yet" and is retried.
 */
export class WaitAborted extends Error {
  override name = 'WaitAborted';
}

/**
 * Polls `check` until it returns a truthy value or the deadline passes. Tests use this
 * instead of sleeping: they wait for the condition they assert, never for a fixed time.
 */
export async function waitFor<T>(check: () => T | Promise<T>, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<Truthy<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Truthy<T>;
    } catch (err) {
      if (err instanceof WaitAborted) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}${why}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 10));
  }
}
