import { AsyncLocalStorage } from 'node:async_hooks';
import type { EmitEvent } from '../domain/emit.ts';

/**
 * The hop count of what a run causes, carried through a capability call by async context so
 * that Veer's own change events (gateway.weights, deployment.scaled, …), emitted deep inside
 * services that know nothing of runs, count one hop more than the event that started the run.
 * Without it two workflows reacting to each other's gateway changes would loop forever, since
 * each change event would start again at hop 0.
 */
const current = new AsyncLocalStorage<number>();

/** Runs `fn` as part of a run whose effects carry `hops`. */
export function withCausedHops<T>(hops: number | undefined, fn: () => Promise<T>): Promise<T> {
  return hops === undefined ? fn() : current.run(hops, fn);
}

/** The emitter for services: events without a hop count of their own get the current run's. */
export function stampingCausedHops(emit: EmitEvent): EmitEvent {
  return (event) => {
    const hops = current.getStore();
    return emit(hops === undefined || event.hops !== undefined ? event : { ...event, hops });
  };
}
