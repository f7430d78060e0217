import type { EventStore } from '../ports/event-store.ts';
import type { EmitEvent } from '../domain/emit.ts';
import type { Logger } from '../shared/logger.ts';
import { Backoff } from '../shared/retry.ts';
import { assertNotReserved, expandTags, normalizeEvent, VEER_ORIGIN, type EventOrigin, type NewEvent, type VeerEvent } from '../domain/event.ts';

/**
 * The one path every event takes: API posts, Veer's own lifecycle events, script
 * emits and remote streams all go through `emit`, which validates and appends to the
 * store. Triggers and SSE read the store (its tail), never an in-memory shortcut, so
 * events reach them whichever process or replica accepted them.
 *
 * Provenance is stamped here from the `origin` the accepting host passes (never from the
 * event itself): the API says `api`, the script capability `workflow:<name>/<run>` with
 * the run's hops, remote streams `remote:<url>`. Only `veer` and remote origins may use
 * the tags and types reserved for Veer.
 */
export interface EventBus {
  /**
   * Validates (ValidationError), checks reserved tags and types against the origin
   * (PermissionError) and stores (EVENTS.UNAVAILABLE) one event; returns it with its id.
   * Without an origin the event is Veer's own: anything relaying someone else's event
   * must say whose.
   */
  emit(input: unknown, origin?: EventOrigin): Promise<VeerEvent>;
  /** What `emit` would store, with the same checks, storing nothing (dry runs). */
  preview(input: unknown, origin?: EventOrigin): NewEvent;
  /** `emit` for producers that must never fail because of events (run lifecycle, gateways): logs instead. */
  readonly emitter: EmitEvent;
  /**
   * Calls `listener` with every event appended from now on, in store order. Resolves
   * once the feed is positioned: every event appended after that is delivered.
   * Returns the unsubscribe function.
   */
  subscribe(listener: (event: VeerEvent) => void): Promise<() => void>;
  readonly store: EventStore;
  close(): Promise<void>;
}

export interface EventBusOptions {
  events: EventStore;
  logger: Logger;
  /** Wait before re-tailing after a store error (ms); grows while errors repeat. Default 1000. */
  retryMs?: number;
  now?: () => number;
}

/** The event as the store would get it: validated, reserved names checked, provenance stamped. */
function prepareEvent(input: unknown, origin: EventOrigin, now: number): NewEvent {
  const event = normalizeEvent(input, now);
  assertNotReserved(event, origin.source);
  const tags = origin.tags?.length ? expandTags([...event.tags, ...origin.tags]) : event.tags;
  const h = origin.hops ?? 0;
  const hops = Number.isInteger(h) && h > 0 ? h : 0;
  return { ...event, tags, source: origin.source, hops };
}

/** The bus's one append path, also for engine parts that hold only the store (the trigger dispatcher's notices). */
export async function publishEvent(events: EventStore, input: unknown, origin: EventOrigin, now: number = Date.now()): Promise<VeerEvent> {
  return events.append(prepareEvent(input, origin, now));
}

export function createEventBus(options: EventBusOptions): EventBus {
  const { events, logger } = options;
  const log = logger.child({ component: 'event-bus' });
  const now = options.now ?? Date.now;
  const listeners = new Set<(event: VeerEvent) => void>();
  let feed: { abort: AbortController; ready: Promise<void> } | undefined;

  // One tail per process feeds every local subscriber (SSE clients), started on demand.
  function startFeed(): { abort: AbortController; ready: Promise<void> } {
    const abort = new AbortController();
    let resolveReady!: () => void;
    let rejectReady!: (err: unknown) => void;
    const ready = new Promise<void>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    void (async () => {
      let from: string;
      try {
        from = await events.head();
        resolveReady();
      } catch (err) {
        rejectReady(err);
        feed = undefined;
        return;
      }
      const retryMs = options.retryMs ?? 1000;
      const backoff = new Backoff({ minMs: retryMs, maxMs: retryMs * 8 });
      while (!abort.signal.aborted) {
        try {
          for await (const batch of events.tail({ from, signal: abort.signal })) {
            backoff.reset();
            for (const e of batch.events) {
              for (const l of listeners) {
                try {
                  l(e);
                } catch (err) {
                  log.warn({ err }, 'event listener failed');
                }
              }
            }
            from = batch.checkpoint;
          }
        } catch (err) {
          log.warn({ err }, 'event feed failed; retrying');
          await backoff.wait(abort.signal).catch(() => undefined);
        }
      }
    })();
    return { abort, ready };
  }

  const bus: EventBus = {
    store: events,
    async emit(input, origin = VEER_ORIGIN) {
      return publishEvent(events, input, origin, now());
    },
    preview(input, origin = VEER_ORIGIN) {
      return prepareEvent(input, origin, now());
    },
    emitter: async ({ hops, ...event }) => {
      try {
        await bus.emit(event, { ...VEER_ORIGIN, hops });
      } catch (err) {
        log.warn({ err, tags: event.tags, type: event.type }, 'event dropped');
      }
    },
    async subscribe(listener) {
      listeners.add(listener);
      if (!feed) feed = startFeed();
      try {
        await feed.ready;
      } catch (err) {
        listeners.delete(listener);
        throw err;
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && feed) {
          feed.abort.abort();
          feed = undefined;
        }
      };
    },
    async close() {
      listeners.clear();
      feed?.abort.abort();
      feed = undefined;
    },
  };
  return bus;
}
