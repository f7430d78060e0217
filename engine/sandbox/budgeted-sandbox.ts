import type { RunBudgetUsage } from '../domain/run.ts';
import type { SandboxHost, SandboxOutcome } from '../ports/sandbox-host.ts';
import type { Logger } from '../shared/logger.ts';
import { createRunBudget, type BudgetError, type BudgetLimits } from './run-budget.ts';

export interface BudgetedSandboxOptions {
  limits: BudgetLimits;
  /** Stores what the run used (the run record's `budget`), after every attempt; failures are logged. */
  recordUsage?: (runId: string, usage: RunBudgetUsage) => Promise<unknown>;
  logger: Logger;
}

/**
 * Gives every run a budget (scope.budget, counted by the host boundary and the capabilities)
 * and enforces it: the first overrun stops the run, which then ends `failed` with that
 * BUDGET.* error whatever the script did with the error it got — catching it must not let a
 * run carry on past its budget. A decorator, so any SandboxHost gets the same budgets.
 */
export function withRunBudgets(inner: SandboxHost, options: BudgetedSandboxOptions): SandboxHost {
  return {
    async run(request, signal) {
      // Our own signal: aborted by the caller's (cancel, deadline) or by an overrun.
      const stop = new AbortController();
      const forward = () => stop.abort(signal?.reason);
      if (signal?.aborted) forward();
      else signal?.addEventListener('abort', forward, { once: true });
      let cancelledFirst = false;
      const budget = createRunBudget(options.limits, (err: BudgetError) => {
        if (stop.signal.aborted) {
          cancelledFirst = true;
          return;
        }
        stop.abort(err);
      });
      let outcome: SandboxOutcome;
      try {
        outcome = await inner.run({ ...request, scope: { ...request.scope, signal: stop.signal, budget } }, stop.signal);
      } finally {
        signal?.removeEventListener('abort', forward);
      }
      const exceeded = budget.exceeded();
      if (exceeded && !cancelledFirst) outcome = { status: 'failed', error: exceeded.toRunError() };
      if (options.recordUsage) {
        await options
          .recordUsage(request.scope.runId, budget.usage())
          .catch((err: unknown) => options.logger.warn({ err, runId: request.scope.runId }, 'could not record the run budget usage'));
      }
      return outcome;
    },
    close: () => inner.close(),
  };
}
