import type { Logger } from '../engine/shared/logger.ts';
import { settlesWithin } from '../engine/shared/wait.ts';

/**
 * How long closing stores and connections may take after the work itself has drained. A
 * close waits on Redis, the KV store or BullMQ; while one of them is unreachable it can wait
 * forever (an engine SIGTERMed during a Redis outage stayed alive for minutes), so the
 * process exits anyway once this has passed.
 */
export const SHUTDOWN_CLOSE_MS = 15_000;

/**
 * Runs `close` once on the first SIGINT or SIGTERM and exits 0 when it finishes. Shutdown is
 * bounded whatever the services do: after `drainMs + SHUTDOWN_CLOSE_MS` the process logs
 * what it was still waiting for and exits 1. Unfinished runs are then resumed by another
 * engine exactly as after a crash, and local-deployment instances are left running for the
 * next supervisor to adopt.
 */
export function exitOnSignal(logger: Logger, close: () => Promise<void>, drainMs = 0): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const boundMs = drainMs + SHUTDOWN_CLOSE_MS;
    logger.info({ signal, boundMs }, 'shutting down');
    // Not unref'd: this timer is what ends a close that would otherwise never return.
    setTimeout(() => {
      logger.error({ boundMs }, 'shutdown did not finish in time (a service is unreachable?); exiting anyway');
      process.exit(1);
    }, boundMs);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** How long one shutdown step may take before the next one starts anyway, unless the step says. */
export const SHUTDOWN_STEP_MS = 3_000;

/**
 * Runs the shutdown steps in order, each bounded by SHUTDOWN_STEP_MS: a step stuck on an
 * unreachable service is logged by name and left behind, so the steps after it (stopping the
 * sandbox processes, HAProxy, local instances) still run. A failing step is logged the same way.
 */
export async function closeInOrder(logger: Logger, steps: Array<[name: string, close: () => Promise<unknown> | undefined, boundMs?: number]>): Promise<void> {
  for (const [name, close, boundMs = SHUTDOWN_STEP_MS] of steps) {
    try {
      if (!(await settlesWithin(Promise.resolve(close()), boundMs))) logger.warn({ step: name, ms: boundMs }, 'shutdown step did not finish in time; going on');
    } catch (err) {
      logger.warn({ err, step: name }, 'shutdown step failed');
    }
  }
}
