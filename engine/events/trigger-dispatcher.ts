import type { Redis } from 'ioredis';
import type { EventStore } from '../ports/event-store.ts';
import { isEventTrigger, type Workflow } from '../domain/workflow.ts';
import type { RunLauncher } from '../runs/launcher.ts';
import { VeerError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { delay } from '../shared/wait.ts';
import { matchesFilter, type VeerEvent } from '../domain/event.ts';
import { createLeaderLock } from './leader-lock.ts';

/**
 * Starts workflows whose `events` trigger matches stored events. One replica dispatches
 * (a Redis lease); it tails the event store from a checkpoint kept in Redis and moves
 * the checkpoint only after every start for a batch succeeded, so delivery is
 * at-least-once and the launcher's dedupe key (`event:<id>`) makes it at-most-one run
 * per event and workflow. A restart, or a standby taking over, resumes at the checkpoint.
 */
export interface WorkflowSource {
  list(): Promise<Workflow[]>;
  /** Optional change signal (WorkflowStore.subscribe): refreshes the list at once. */
  subscribe?(listener: (name: string) => void): () => void;
}

export interface EventTriggerDispatcherOptions {
  redis: Redis;
  prefix: string;
  events: EventStore;
  workflows: WorkflowSource;
  launcher: RunLauncher;
  logger: Logger;
  /** How often the workflow list is re-read (ms). Default 1000. */
  refreshMs?: number;
  /** Lease TTL (ms): how long a dead dispatcher blocks a standby. Default 10 000. */
  lockTtlMs?: number;
  /** Pause before retrying after a failed start or store error (ms). Default 1000. */
  retryMs?: number;
}

export interface EventTriggerDispatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Re-reads the workflow list now. */
  refresh(): Promise<void>;
  /** Whether this replica currently holds the lease. */
  readonly leader: boolean;
}

export function createEventTriggerDispatcher(options: EventTriggerDispatcherOptions): EventTriggerDispatcher {
  const { redis, events, launcher } = options;
  const log = options.logger.child({ component: 'event-triggers' });
  const lockTtlMs = options.lockTtlMs ?? 10_000;
  const retryMs = options.retryMs ?? 1000;
  const checkpointKey = `${options.prefix}:events:dispatcher:checkpoint`;
  const lock = createLeaderLock(redis, `${options.prefix}:events:dispatcher:lock`, lockTtlMs);
  let triggered: Workflow[] = [];
  let stop: AbortController | undefined;
  let loop: Promise<void> | undefined;
  let refresher: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let leader = false;

  async function refresh(): Promise<void> {
    const all = await options.workflows.list();
    triggered = all.filter((w) => w.enabled !== false && isEventTrigger(w.trigger));
  }

  async function startRuns(event: VeerEvent): Promise<void> {
    for (const wf of triggered) {
      if (!isEventTrigger(wf.trigger) || !matchesFilter(event, wf.trigger.events)) continue;
      // Its own events (script emits, its run lifecycle) never start a workflow again: no loops.
      if (event.tags.includes(`workflows:${wf.name}`)) continue;
      try {
        const res = await launcher.start(wf.name, { input: event, trigger: { type: 'event', eventId: event.id }, dedupeKey: `event:${event.id}` });
        log.debug({ workflow: wf.name, eventId: event.id, started: res.started, reason: res.started ? undefined : res.reason }, 'event trigger');
      } catch (err) {
        // A permanent refusal (workflow deleted meanwhile, invalid) must not block every later event.
        if (err instanceof VeerError && !err.retryable) {
          log.warn({ err, workflow: wf.name, eventId: event.id }, 'event trigger refused; skipping this event for this workflow');
          continue;
        }
        throw err;
      }
    }
  }

  async function dispatch(signal: AbortSignal): Promise<void> {
    let from = await redis.get(checkpointKey);
    if (!from) {
      from = await events.head();
      if (!(await lock.setIfHolder(checkpointKey, from))) return;
    }
    for await (const batch of events.tail({ from, signal })) {
      for (const e of batch.events) await startRuns(e);
      if (!(await lock.setIfHolder(checkpointKey, batch.checkpoint))) {
        log.warn('lost the dispatcher lease; standing by');
        return;
      }
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let held = false;
      try {
        held = await lock.acquire();
      } catch (err) {
        log.warn({ err }, 'cannot reach Redis for the dispatcher lease');
      }
      if (!held) {
        await delay(Math.max(50, lockTtlMs / 3), signal).catch(() => undefined);
        continue;
      }
      leader = true;
      const session = new AbortController();
      const onStop = () => session.abort();
      signal.addEventListener('abort', onStop, { once: true });
      const renew = setInterval(() => {
        lock.renew().then((ok) => ok || session.abort(), () => session.abort());
      }, Math.max(20, lockTtlMs / 3));
      try {
        await refresh();
        await dispatch(session.signal);
      } catch (err) {
        if (!session.signal.aborted) {
          log.warn({ err }, 'event dispatch failed; resuming from the last checkpoint');
          await delay(retryMs, signal).catch(() => undefined);
        }
      } finally {
        clearInterval(renew);
        signal.removeEventListener('abort', onStop);
        leader = false;
      }
    }
  }

  return {
    get leader() {
      return leader;
    },
    refresh,
    async start() {
      if (stop) return;
      stop = new AbortController();
      await refresh().catch((err) => log.warn({ err }, 'cannot list workflows yet'));
      // The first dispatcher ever starts at "now"; fixing that point before start() returns
      // means no event posted after it is missed while replicas race for the lease.
      try {
        await redis.set(checkpointKey, await events.head(), 'NX');
      } catch (err) {
        log.warn({ err }, 'cannot initialise the event checkpoint yet');
      }
      refresher = setInterval(() => void refresh().catch((err) => log.warn({ err }, 'workflow refresh failed')), options.refreshMs ?? 1000);
      unsubscribe = options.workflows.subscribe?.(() => void refresh().catch(() => undefined));
      loop = run(stop.signal);
    },
    async stop() {
      if (!stop) return;
      stop.abort();
      clearInterval(refresher);
      unsubscribe?.();
      await loop;
      await lock.release().catch(() => undefined);
      stop = undefined;
      loop = undefined;
    },
  };
}
