import type { RunBudgetUsage, RunError } from '../domain/run.ts';
import type { BudgetCeiling, BudgetCounter, RunBudget } from '../ports/sandbox-host.ts';
import { VeerError, type ErrorCode } from '../shared/errors.ts';

/**
 * Per-run budgets: what one run may make the engine do on its behalf. The isolate's own limits
 * (memory, CPU, deadline) do not see work done in the engine for a host call — Redis commands
 * behind a metrics window, events written, query results held in memory — so each of these is
 * counted here, against an operator-set limit (VEER_BUDGET_*), and a run over any of them fails.
 */
export interface BudgetLimits {
  /** ctx.* calls per run. */
  hostCalls: number;
  /** ctx.* calls waiting on the engine at once: bounds what a flood of un-awaited calls can queue. */
  hostCallsInFlight: number;
  /** JSON bytes returned into the isolate per run. */
  bytesReturned: number;
  eventsEmitted: number;
  /** Events returned by ctx.events.query per run, summed over calls. */
  eventResults: number;
  /** Requests sent by ctx.http.fetch per run (redirects followed count too). */
  httpRequests: number;
  /** Longest ctx.metrics.gateway window: each second of window costs the metrics store a read. */
  metricsWindowMs: number;
}

export const DEFAULT_BUDGETS: BudgetLimits = {
  hostCalls: 10_000,
  hostCallsInFlight: 64,
  bytesReturned: 64 * 1024 * 1024,
  eventsEmitted: 1000,
  eventResults: 10_000,
  httpRequests: 100,
  metricsWindowMs: 15 * 60_000,
};

type BudgetName = keyof BudgetLimits;

/** Each budget's error code, setting and wording; the message tells the user how to get more. */
const BUDGETS: Record<BudgetName, { code: ErrorCode; variable: string; what: (n: number) => string }> = {
  hostCalls: { code: 'BUDGET.HOST_CALLS', variable: 'VEER_BUDGET_HOST_CALLS', what: (n) => `${n} ctx calls per run` },
  hostCallsInFlight: {
    code: 'BUDGET.HOST_CALLS_IN_FLIGHT',
    variable: 'VEER_BUDGET_HOST_CALLS_IN_FLIGHT',
    what: (n) => `${n} ctx calls waiting at once (await them, or batch fewer)`,
  },
  bytesReturned: { code: 'BUDGET.BYTES_RETURNED', variable: 'VEER_BUDGET_BYTES_RETURNED', what: (n) => `${n} bytes returned by ctx calls per run` },
  eventsEmitted: { code: 'BUDGET.EVENTS_EMITTED', variable: 'VEER_BUDGET_EVENTS_EMITTED', what: (n) => `${n} events emitted per run` },
  eventResults: { code: 'BUDGET.EVENT_RESULTS', variable: 'VEER_BUDGET_EVENT_RESULTS', what: (n) => `${n} events returned by ctx.events.query per run` },
  httpRequests: { code: 'BUDGET.HTTP_REQUESTS', variable: 'VEER_BUDGET_HTTP_REQUESTS', what: (n) => `${n} requests sent by ctx.http.fetch per run` },
  metricsWindowMs: {
    code: 'BUDGET.METRICS_WINDOW',
    variable: 'VEER_BUDGET_METRICS_WINDOW_MS',
    what: (n) => `a metrics window of at most ${n} ms (${n / 60_000} min) per ctx.metrics.gateway call`,
  },
};

/** A run went over one of its budgets; `details` names the budget, its limit and the setting that raises it. */
export class BudgetError extends VeerError {
  constructor(name: BudgetName, limit: number, asked: number) {
    const b = BUDGETS[name];
    super(b.code, `run budget exceeded: ${b.what(limit)} (asked for ${asked}); the operator can raise ${b.variable}`, {
      details: { budget: name, limit, asked, setting: b.variable },
    });
  }

  toRunError(): RunError {
    return { code: this.code, message: this.message };
  }
}

/** A budget that also reports its first overrun, so the run can be ended with it. */
export interface TrackedRunBudget extends RunBudget {
  exceeded(): BudgetError | undefined;
}

/**
 * One run's counters. The first overrun is remembered and reported through `onExceeded` (which
 * stops the run); the call that overran gets the same error, so a script that catches it still
 * ends as failed.
 */
export function createRunBudget(limits: BudgetLimits, onExceeded: (err: BudgetError) => void): TrackedRunBudget {
  const used = { hostCalls: 0, bytesReturned: 0, eventsEmitted: 0, eventResults: 0, httpRequests: 0 };
  let inFlight = 0;
  let peak = 0;
  let first: BudgetError | undefined;

  const over = (name: BudgetName, asked: number): never => {
    const err = new BudgetError(name, limits[name], asked);
    if (!first) {
      first = err;
      onExceeded(err);
    }
    throw err;
  };

  return {
    startCall() {
      if (used.hostCalls + 1 > limits.hostCalls) over('hostCalls', used.hostCalls + 1);
      if (inFlight + 1 > limits.hostCallsInFlight) over('hostCallsInFlight', inFlight + 1);
      used.hostCalls++;
      inFlight++;
      peak = Math.max(peak, inFlight);
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        inFlight--;
      };
    },
    consume(counter: BudgetCounter, amount: number) {
      if (used[counter] + amount > limits[counter]) over(counter, used[counter] + amount);
      used[counter] += amount;
    },
    ceiling(name: BudgetCeiling, value: number) {
      if (value > limits[name]) over(name, value);
    },
    usage: (): RunBudgetUsage => ({ ...used, hostCallsInFlightPeak: peak, ...(first ? { exceeded: first.code } : {}) }),
    exceeded: () => first,
  };
}
