import type { Logger } from '../../engine/shared/logger.ts';

/**
 * Single-flight reconcile: at most one pass runs; requests arriving meanwhile mark the loop
 * dirty and cause exactly one more pass after it (however many arrived), so a burst of store
 * changes costs two passes, not one per change, and passes never overlap.
 */
export interface ReconcileLoop {
  /** Asks for a pass (now, or after the one running). */
  schedule(): void;
  /** Resolves once no pass is running or asked for (or the loop is stopped). */
  idle(): Promise<void>;
  /** Resolves when the pass in flight, if any, has finished. */
  settled(): Promise<void>;
}

export function createReconcileLoop(pass: () => Promise<void>, o: { stopped: () => boolean; log: Logger }): ReconcileLoop {
  let dirty = false;
  let running: Promise<void> | undefined;
  return {
    schedule() {
      dirty = true;
      running ??= (async () => {
        while (dirty && !o.stopped()) {
          dirty = false;
          try {
            await pass();
          } catch (err) {
            // Logged, not fatal: the loop stays usable for the next change.
            o.log.error({ err }, 'reconcile failed');
          }
        }
      })().finally(() => {
        running = undefined;
      });
    },
    async idle() {
      while ((running || dirty) && !o.stopped()) await (running ?? Promise.resolve());
    },
    async settled() {
      await running;
    },
  };
}
