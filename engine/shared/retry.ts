import { delay } from './wait.ts';

/**
 * The one retry/backoff helper. Exponential backoff with full jitter, capped, that stops
 * at once when `signal` aborts; every retry loop (watchers, leader loops, feeds, CAS
 * retries) paces itself with one of these.
 */
export interface BackoffOptions {
  /** First pause (ms). Default 100. */
  minMs?: number;
  /** Longest pause (ms). Default 5000. */
  maxMs?: number;
  /** Spread pauses over [0, pause] so replicas do not retry in step. Default true. */
  jitter?: boolean;
}

export class Backoff {
  private attempt = 0;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly jitter: boolean;

  constructor(options: BackoffOptions = {}) {
    this.minMs = options.minMs ?? 100;
    this.maxMs = Math.max(this.minMs, options.maxMs ?? 5000);
    this.jitter = options.jitter ?? true;
  }

  /** The pause before the next try (grows with every call until `reset`). */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return this.jitter ? Math.round(ceiling / 2 + (Math.random() * ceiling) / 2) : ceiling;
  }

  /** Waits the next pause; rejects with the signal's reason when it aborts. */
  wait(signal?: AbortSignal): Promise<number> {
    const ms = this.next();
    return delay(ms, signal).then(() => ms);
  }

  /** After a success: the next failure starts from `minMs` again. */
  reset(): void {
    this.attempt = 0;
  }
}
