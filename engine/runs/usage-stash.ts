import type { RunBudgetUsage } from '../domain/run.ts';

/**
 * What an attempt used of its budgets, held in memory from the end of the sandbox run until
 * the executor's next write of the run record (the final transition, a retry, a re-run), which
 * carries it: one Redis write an attempt saved. An attempt cut short by a crash loses it, as
 * its record is rewritten by the resumed attempt anyway.
 */
export interface UsageStash {
  /** The budgeted sandbox's `recordUsage`. */
  record(runId: string, usage: RunBudgetUsage): Promise<void>;
  /** The usage recorded for the run since the last take, removed. */
  take(runId: string): RunBudgetUsage | undefined;
}

export function createUsageStash(): UsageStash {
  const held = new Map<string, RunBudgetUsage>();
  return {
    record(runId, usage) {
      held.set(runId, usage);
      return Promise.resolve();
    },
    take(runId) {
      const usage = held.get(runId);
      held.delete(runId);
      return usage;
    },
  };
}
