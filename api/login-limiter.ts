/**
 * Failed dashboard logins per client address, in a fixed window: after `max` failures the
 * address is refused until its window ends, so a token cannot be guessed through the login
 * form faster than through the API's own 401s. Per API process (a guess spread over replicas
 * still meets each one's limit); successful logins do not count.
 */
export interface LoginLimiter {
  /** Seconds to wait when `address` is over its limit, else 0. */
  retryAfter(address: string, now?: number): number;
  failed(address: string, now?: number): void;
}

export function createLoginLimiter(options: { max?: number; windowMs?: number } = {}): LoginLimiter {
  const max = options.max ?? 10;
  const windowMs = options.windowMs ?? 60_000;
  const windows = new Map<string, { start: number; failures: number }>();
  const current = (address: string, now: number) => {
    const w = windows.get(address);
    if (w && now - w.start < windowMs) return w;
    // Expired windows are dropped as addresses come back, and all at once past a bound, so the map stays small.
    if (windows.size > 10_000) for (const [k, v] of windows) if (now - v.start >= windowMs) windows.delete(k);
    const fresh = { start: now, failures: 0 };
    windows.set(address, fresh);
    return fresh;
  };
  return {
    retryAfter(address, now = Date.now()) {
      const w = current(address, now);
      return w.failures >= max ? Math.ceil((w.start + windowMs - now) / 1000) : 0;
    },
    failed(address, now = Date.now()) {
      current(address, now).failures++;
    },
  };
}
