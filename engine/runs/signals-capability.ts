import type { SignalsCapability } from '../../workflows/types.ts';
import { SignalNameSchema, type Signal } from '../domain/signal.ts';
import type { SignalStore } from '../ports/signal-store.ts';
import type { HostCapability, RunScope } from '../sandbox/capabilities.ts';
import { validationErrorFromZod } from '../shared/issues.ts';

/** The signal name a script asked for: absent (any signal) or a valid name; a typo must fail loudly, not wait forever for a signal that cannot exist. */
export function signalNameArg(name: unknown): string | undefined {
  if (name === undefined || name === null) return undefined;
  const parsed = SignalNameSchema.safeParse(name);
  if (!parsed.success) throw validationErrorFromZod(parsed.error, { prefix: 'name', root: 'name', title: 'ctx.signals.take' });
  return parsed.data;
}

/** The run-log line of a taken signal, so a user reading a run sees which promote it acted on. */
export function logTaken(scope: RunScope, signal: Signal, how = 'taken'): void {
  scope.log('info', `signal '${signal.name}' ${how} (sent by ${signal.sentBy} at ${signal.sentAt})`, { signal: signal.id, name: signal.name });
}

/**
 * `ctx.signals.take(name?)`: the oldest pending signal of the workflow's inbox (named `name`,
 * if given), now held by this run. The executor settles what a run took when the attempt
 * ends: kept gone when it succeeded, handed back otherwise. `held` notes the runs that took
 * (tried to take) one, so the executor settles only those.
 */
export function createSignalsCapability(store: SignalStore, held?: Set<string>): HostCapability<SignalsCapability> {
  return {
    take: async (scope, nameArg) => {
      // Noted before the take: a take that reached the store but whose answer was lost must still be settled.
      held?.add(scope.runId);
      const signal = await store.take(scope.workflow.name, scope.runId, signalNameArg(nameArg));
      if (signal) logTaken(scope, signal);
      return signal;
    },
  };
}
