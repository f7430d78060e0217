import { AsyncLocalStorage } from 'node:async_hooks';
import type { EmitEvent, EmittedEvent } from '../domain/emit.ts';

/**
 * Before → after for audit entries, without the services knowing about audit. The services
 * already emit Veer's change events with before/after (`gateway.weights`, `gateway.updated`,
 * `deployment.scaled`) but not who caused them; the one thing that knows the actor (the API's
 * access middleware, the audited capability wrapper) runs the call inside `collectEffects`,
 * and the emitter given to the services (`notingEffects`) adds each change event to the
 * collection of the call it happened in. Async context follows the call through every await.
 */
export interface Effect {
  type: string;
  before?: unknown;
  after?: unknown;
}

const CHANGE_EVENTS = new Set(['gateway.weights', 'gateway.updated', 'deployment.scaled']);
// Enough for any one call; the cap keeps a pathological call from growing an audit entry.
const MAX_EFFECTS = 16;

const current = new AsyncLocalStorage<Effect[]>();

/** Runs `fn`, returning its outcome with the change events emitted during it. */
export async function collectEffects<T>(fn: () => Promise<T>): Promise<{ effects: Effect[]; result: PromiseSettledResult<T> }> {
  const effects: Effect[] = [];
  const result = await current.run(effects, async () => {
    try {
      return { status: 'fulfilled', value: await fn() } as const;
    } catch (reason) {
      return { status: 'rejected', reason } as const;
    }
  });
  return { effects, result };
}

function effectOf(event: EmittedEvent): Effect {
  const v = (typeof event.value === 'object' && event.value !== null ? event.value : {}) as Record<string, unknown>;
  // gateway.updated carries the resulting weights (and the action) rather than before/after.
  const after = 'after' in v ? v.after : v.action === 'deleted' ? null : v.weights;
  return { type: event.type, ...('before' in v ? { before: v.before } : {}), ...(after === undefined ? {} : { after }) };
}

/** The emitter for services: forwards every event, and notes change events in the current call's collection. */
export function notingEffects(emit: EmitEvent): EmitEvent {
  return async (event) => {
    const effects = current.getStore();
    if (effects && effects.length < MAX_EFFECTS && CHANGE_EVENTS.has(event.type)) effects.push(effectOf(event));
    await emit(event);
  };
}

/** Before → after of a call from its effects: the first change's before, the last one's after. */
export function beforeAfter(effects: Effect[]): { before?: unknown; after?: unknown } {
  if (effects.length === 0) return {};
  const first = effects[0];
  const last = effects[effects.length - 1];
  return { ...('before' in first ? { before: first.before } : {}), ...('after' in last ? { after: last.after } : {}) };
}
