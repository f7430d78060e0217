import { expandTags, type VeerEvent } from '../domain/event.ts';
import { globMatches } from '../domain/glob.ts';
import type { Coordination, Lease, Leadership } from '../ports/coordination.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { Delivery, Notifier, NotifierStore } from '../ports/notifier-store.ts';
import { Backoff } from '../shared/retry.ts';
import type { SecretService } from './secret-service.ts';
import { fillUrlSecrets, secretsIn } from './url-secrets.ts';
import type { Logger } from '../shared/logger.ts';
import type { NotifyConfig } from './config.ts';
import { deliver, type DeliveryResult } from './notifier-delivery.ts';
import { formatBody } from './notifier-format.ts';

/**
 * Delivers events to notifiers. One engine delivers (the `notifiers:worker` lease); inside
 * it every notifier has its own loop with its own tail of the event store and its own
 * cursor, so a slow or failing receiver only ever delays itself. A loop delivers each
 * matching event (retrying 5xx, timeouts and connection errors with capped exponential
 * backoff, up to `attempts` tries; other 4xx end at once), records every attempt, then moves
 * the cursor past it — only while it holds the lease — and goes on to the next event,
 * whether the delivery succeeded or was given up as `failed`.
 *
 * The cursor is the event-store checkpoint a batch started from plus the last event done in
 * it, saved after every matching event: a restart or a standby taking over resends nothing a
 * clean stop finished, and a crash between a send and its save resends that one event with
 * the same `X-Veer-Delivery` id (at-least-once; receivers drop the duplicate). Deliveries
 * are not events themselves: nothing here emits, so notifiers cannot feed on each other.
 */
export interface NotifierWorkerOptions {
  coordination: Pick<Coordination, 'runAsLeader' | 'listen'>;
  store: NotifierStore;
  events: EventStore;
  config: NotifyConfig;
  logger: Logger;
  /** How often the notifier list is re-read (ms); changes also arrive on NOTIFIERS_CHANGED. Default 1000. */
  refreshMs?: number;
  /** Lease TTL (ms): how long a dead engine blocks a standby. Default 10 000. */
  lockTtlMs?: number;
  /** Opens `{{secret:<name>}}` placeholders of notifier URLs; without it such a URL fails each try. */
  secrets?: Pick<SecretService, 'reveal'>;
}

export interface NotifierWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Whether this engine delivers now. */
  readonly leader: boolean;
}

export const NOTIFIER_LEASE = 'notifiers:worker';
/** Published (with the notifier's name) by the API after a PUT or DELETE: the leader re-reads the list at once. */
export const NOTIFIERS_CHANGED = 'notifiers:changed';
/** Attempts kept per notifier for GET …/deliveries. */
export const DELIVERIES_KEPT = 200;

/** Whether a notifier wants this event: all its tags on the event, and its type among `types` (globs) when given. */
export function notifierMatches(events: Notifier['events'], event: Pick<VeerEvent, 'tags' | 'type'>): boolean {
  if (events.types && events.types.length > 0 && !events.types.some((t) => globMatches(t, event.type))) return false;
  if (events.tags.length === 0) return true;
  const have = new Set(expandTags(event.tags));
  return events.tags.every((t) => have.has(t));
}

/** A cursor: resume the tail at `from`, skipping events up to and including `after` (ones done before a stop mid-batch). */
interface Position {
  from: string;
  after?: string;
}

/** Plain checkpoints (what the API stores when it creates a notifier) are positions too. */
function decodeCursor(raw: string): Position {
  if (raw.startsWith('{')) {
    try {
      const p = JSON.parse(raw) as Position;
      if (typeof p.from === 'string') return p;
    } catch {
      /* a checkpoint that happens to start with `{` */
    }
  }
  return { from: raw };
}

const encodeCursor = (p: Position): string => (p.after === undefined ? p.from : JSON.stringify(p));

/** Thrown inside a loop when the lease turned out to be someone else's. */
class LeaseLost extends Error {}

interface Loop {
  notifier: Notifier;
  abort: AbortController;
  done: Promise<void>;
}

export function createNotifierWorker(options: NotifierWorkerOptions): NotifierWorker {
  const { store, events, config } = options;
  const log = options.logger.child({ component: 'notifiers' });
  const refreshMs = options.refreshMs ?? 1000;
  let leadership: Leadership | undefined;
  let unlisten: (() => void) | undefined;
  /** Set while leading: re-reads the notifier list now. */
  let sync: (() => void) | undefined;

  /** The URL with its secrets filled in, or a failed try saying which secret is missing (retried: the operator may store it). */
  async function resolveUrl(template: string): Promise<string | DeliveryResult> {
    if (secretsIn(template).length === 0) return template;
    try {
      if (!options.secrets) throw new Error('secrets are not available to the notifier worker');
      return await fillUrlSecrets(template, (name) => options.secrets!.reveal(name));
    } catch (err) {
      return { outcome: 'retry', error: `the URL's secret could not be read: ${(err as Error).message}`, ms: 0 };
    }
  }

  async function record(name: string, delivery: Delivery): Promise<void> {
    await store.recordDelivery(name, delivery, DELIVERIES_KEPT).catch((err) => log.warn({ err, notifier: name }, 'delivery attempt not recorded'));
  }

  /**
   * Every try of one event for one notifier, until delivered, refused or out of attempts; true
   * once it is finished (the cursor may move past it), false when a stop came between tries.
   * A request under way is not aborted by a stop: it ends within VEER_NOTIFY_TIMEOUT_MS and is
   * recorded, so a clean stop or fail-over never sends an event twice.
   */
  async function deliverEvent(loop: Loop, event: VeerEvent): Promise<boolean> {
    const backoff = new Backoff({ minMs: config.backoffMs, maxMs: config.maxBackoffMs, jitter: false });
    const signal = loop.abort.signal;
    for (let attempt = 1; ; attempt++) {
      // Read each try from the store, not the loop's copy (refreshed only on a change message,
      // which can arrive after the next event): a PUT that fixes the URL or secret applies to
      // every event posted after it returned, and to the retries of one already under way.
      const fresh = await store.get(loop.notifier.name).catch(() => undefined);
      if (fresh && fresh.createdAt === loop.notifier.createdAt) loop.notifier = fresh;
      const n = loop.notifier;
      const body = formatBody(n.format, n.name, event);
      const url = await resolveUrl(n.url);
      const res: DeliveryResult =
        typeof url === 'string'
          ? await deliver({
              url,
              body,
              notifier: n.name,
              eventId: event.id,
              eventType: event.type,
              secret: n.secret,
              timeoutMs: config.timeoutMs,
            })
          : url;
      const last = res.outcome === 'retry' && attempt >= config.attempts;
      const status: Delivery['status'] = res.outcome === 'delivered' ? 'delivered' : res.outcome === 'failed' || last ? 'failed' : 'retrying';
      const error = last ? `${res.error ?? 'failed'} (gave up after ${attempt} attempts, VEER_NOTIFY_ATTEMPTS)` : res.error;
      await record(n.name, {
        eventId: event.id,
        eventType: event.type,
        attempt,
        status,
        ...(res.httpStatus === undefined ? {} : { httpStatus: res.httpStatus }),
        ...(error === undefined ? {} : { error }),
        ms: res.ms,
        at: new Date().toISOString(),
      });
      if (status !== 'retrying') {
        if (status === 'failed') log.warn({ notifier: n.name, eventId: event.id, attempt, httpStatus: res.httpStatus, error }, 'notification failed');
        return true;
      }
      // Between tries a stop is taken at once: the next leader retries the event, with the same delivery id.
      await backoff.wait(signal).catch(() => undefined);
      if (signal.aborted) return false;
    }
  }

  async function save(loop: Loop, position: Position, lease: Lease): Promise<void> {
    if (!(await store.saveCursor(loop.notifier.name, encodeCursor(position), lease))) {
      // Deleted meanwhile (its loop ends at the next refresh), or the lease moved on.
      if (await store.get(loop.notifier.name)) throw new LeaseLost('lost the notifier lease');
      loop.abort.abort();
    }
  }

  /** One notifier's life while this engine leads: tail from its cursor, deliver, move the cursor. */
  async function run(loop: Loop, lease: Lease, lost: () => void): Promise<void> {
    const signal = loop.abort.signal;
    const name = loop.notifier.name;
    const backoff = new Backoff({ minMs: 500, maxMs: 10_000 });
    while (!signal.aborted) {
      try {
        const raw = await store.cursor(name);
        let position: Position = raw === undefined ? { from: await events.head() } : decodeCursor(raw);
        if (raw === undefined) await save(loop, position, lease);
        for await (const batch of events.tail({ from: position.from, signal })) {
          for (const event of batch.events) {
            if (signal.aborted) return;
            if (position.after !== undefined && events.compareIds(event.id, position.after) <= 0) continue;
            if (!notifierMatches(loop.notifier.events, event)) continue;
            const finished = await deliverEvent(loop, event);
            // Saved even when stopping: the lease is still ours until released, and the next leader must not resend it.
            if (finished) await save(loop, { from: position.from, after: event.id }, lease);
            if (signal.aborted) return;
          }
          if (signal.aborted) return;
          position = { from: batch.checkpoint };
          await save(loop, position, lease);
          backoff.reset();
        }
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof LeaseLost) {
          log.warn({ notifier: name }, 'lost the notifier lease; standing by');
          lost();
          return;
        }
        log.warn({ err, notifier: name }, 'notifier loop failed; resuming from its cursor');
        await backoff.wait(signal).catch(() => undefined);
      }
    }
  }

  /** While leading: one loop per notifier, kept in step with the stored list. */
  async function work(signal: AbortSignal, lease: Lease): Promise<void> {
    const loops = new Map<string, Loop>();
    const session = new AbortController();
    const onAbort = () => session.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const lost = () => session.abort();

    const startLoop = (n: Notifier) => {
      const abort = new AbortController();
      const loop: Loop = { notifier: n, abort, done: Promise.resolve() };
      loop.done = run(loop, lease, lost);
      loops.set(n.name, loop);
    };
    const stopLoop = async (name: string) => {
      const loop = loops.get(name);
      if (!loop) return;
      loops.delete(name);
      loop.abort.abort();
      await loop.done;
    };

    let syncing: Promise<void> | undefined;
    let again = false;
    const refresh = async (): Promise<void> => {
      const list = await store.list();
      if (session.signal.aborted) return;
      const byName = new Map(list.map((n) => [n.name, n]));
      for (const [name, loop] of loops) {
        const n = byName.get(name);
        // Deleted, or deleted and made again (a new cursor at the head): this loop is over.
        if (!n || n.createdAt !== loop.notifier.createdAt) await stopLoop(name);
        else loop.notifier = n;
      }
      for (const n of list) if (!loops.has(n.name) && !session.signal.aborted) startLoop(n);
    };
    // One refresh at a time; a change that arrives during one gets another right after.
    const requestSync = () => {
      if (syncing) {
        again = true;
        return;
      }
      syncing = (async () => {
        do {
          again = false;
          await refresh().catch((err) => log.warn({ err }, 'cannot list notifiers'));
        } while (again && !session.signal.aborted);
      })().finally(() => (syncing = undefined));
    };

    requestSync();
    sync = requestSync;
    const timer = setInterval(requestSync, refreshMs);
    try {
      await new Promise<void>((resolve) => (session.signal.aborted ? resolve() : session.signal.addEventListener('abort', () => resolve(), { once: true })));
    } finally {
      clearInterval(timer);
      sync = undefined;
      signal.removeEventListener('abort', onAbort);
      await syncing;
      await Promise.all([...loops.keys()].map(stopLoop));
    }
  }

  return {
    get leader() {
      return leadership?.leader ?? false;
    },
    async start() {
      if (leadership) return;
      unlisten = await options.coordination
        .listen(NOTIFIERS_CHANGED, () => sync?.())
        .catch((err) => {
          log.warn({ err }, 'cannot listen for notifier changes; relying on the periodic refresh');
          return undefined;
        });
      leadership = options.coordination.runAsLeader(NOTIFIER_LEASE, {
        ttlMs: options.lockTtlMs ?? 10_000,
        work,
        onError: (err) => log.warn({ err }, 'notifier delivery: lease unavailable'),
      });
    },
    async stop() {
      if (!leadership) return;
      unlisten?.();
      await leadership.stop();
      leadership = undefined;
    },
  };
}
