import type { KvWatch, KvWatchEvent } from '../../engine/ports/kv-store.ts';

/**
 * The one KvWatch implementation behind every adapter. An adapter supplies a pull source:
 * `pull(signal)` resolves with the next batch of changes (waiting as long as needed, but
 * failing with a typed error when the store is lost). Batches are only pulled when the
 * consumer has taken every earlier event, so a slow consumer applies back-pressure instead
 * of growing a buffer (Redis then reports KV.COMPACTED if it fell behind the trimmed log).
 */
export interface WatchSource {
  pull(signal: AbortSignal): Promise<KvWatchEvent[]>;
  /** Called for each event as the consumer receives it (stores without history track state). */
  delivered?(event: KvWatchEvent): void;
  /** Releases connections/watchers; called once, after the watch ended for any reason. */
  close(): Promise<void>;
}

export function createKvWatch(source: WatchSource, signal?: AbortSignal): KvWatch {
  const controller = new AbortController();
  const buffer: KvWatchEvent[] = [];
  let done = false;
  let closing: Promise<void> | undefined;

  const close = (): Promise<void> => {
    if (!closing) {
      done = true;
      controller.abort();
      signal?.removeEventListener('abort', onAbort);
      closing = source.close().catch(() => undefined);
    }
    return closing;
  };
  const onAbort = () => void close();
  if (signal?.aborted) void close();
  else signal?.addEventListener('abort', onAbort, { once: true });

  const iterator: AsyncIterator<KvWatchEvent> = {
    async next() {
      while (!done) {
        const event = buffer.shift();
        if (event) {
          source.delivered?.(event);
          return { value: event, done: false };
        }
        let batch: KvWatchEvent[];
        try {
          batch = await source.pull(controller.signal);
        } catch (err) {
          if (done) break;
          await close();
          throw err;
        }
        if (done) break;
        buffer.push(...batch);
      }
      return { value: undefined, done: true };
    },
    async return() {
      await close();
      return { value: undefined, done: true };
    },
  };
  return { [Symbol.asyncIterator]: () => iterator, close };
}

/** Settles like `promise`, or rejects as soon as `signal` aborts (listener removed either way). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => undefined); // its failure after an abort is nobody's business
  if (signal.aborted) return Promise.reject(signal.reason);
  let onAbort: (() => void) | undefined;
  const abort = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise, abort]).finally(() => signal.removeEventListener('abort', onAbort!));
}
