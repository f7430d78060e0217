import { matchesFilter, type VeerEvent } from '../domain/event.ts';
import { isEventTrigger, type Workflow } from '../domain/workflow.ts';
import type { Coordination, Lease, Leadership } from '../ports/coordination.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { TriggerState } from '../ports/trigger-state.ts';
import type { RunLauncher } from '../runs/launcher.ts';
import { VeerError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';

/**
 * Starts workflows whose `events` trigger matches stored events. One replica dispatches
 * (the `events:dispatcher` lease); it tails the event store from a checkpoint kept in the
 * trigger state and moves the checkpoint only after every start for a batch succeeded
 * (and only while it holds the lease), so delivery is at-least-once and the launcher's
 * dedupe key (`event:<id>`) makes it at-most-one run per event and workflow. A restart, or a standby taking over, resumes at the checkpoint.
 */
export interface WorkflowSource {
  list(): Promise<Workflow[]>;
  /** Optional change signal (WorkflowStore.subscribe): refreshes the list at once. */
  subscribe?(listener: (name: string) => void): () => void;
}

export interface EventTriggerDispatcherOptions {
  coordination: Pick<Coordination, 'runAsLeader'>;
  triggers: Pick<TriggerState, 'dispatcher'>;
  events: EventStore;
  workflows: WorkflowSource;
  launcher: RunLauncher;
  logger: Logger;
  /** How often the workflow list is re-read (ms). Default 1000. */
  refreshMs?: number;
  /** Lease TTL (ms): how long a dead dispatcher blocks a standby. Default 10 000. */
  lockTtlMs?: number;
  /** Pause before retrying after a failed start or store error (ms); grows while failures repeat. Default 1000. */
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

/** The dispatcher's lease name (one dispatcher per installation). */
export const DISPATCHER_LEASE = 'events:dispatcher';

export function createEventTriggerDispatcher(options: EventTriggerDispatcherOptions): EventTriggerDispatcher {
  const { events, launcher } = options;
  const checkpoints = options.triggers.dispatcher;
  const log = options.logger.child({ component: 'event-triggers' });
  let triggered: Workflow[] = [];
  let leadership: Leadership | undefined;
  let refresher: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

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

  /** Runs while this replica leads: from the checkpoint, every batch dispatched, then the checkpoint moved. */
  async function dispatch(signal: AbortSignal, lease: Lease): Promise<void> {
    await refresh();
    let from = await checkpoints.checkpoint();
    if (!from) {
      from = await events.head();
      if (!(await checkpoints.saveCheckpoint(from, lease))) return;
    }
    for await (const batch of events.tail({ from, signal })) {
      for (const e of batch.events) await startRuns(e);
      if (!(await checkpoints.saveCheckpoint(batch.checkpoint, lease))) {
        log.warn('lost the dispatcher lease; standing by');
        return;
      }
    }
  }

  return {
    get leader() {
      return leadership?.leader ?? false;
    },
    refresh,
    async start() {
      if (leadership) return;
      await refresh().catch((err) => log.warn({ err }, 'cannot list workflows yet'));
      // The first dispatcher ever starts at "now"; fixing that point before start() returns
      // means no event posted after it is missed while replicas race for the lease.
      try {
        await checkpoints.initCheckpoint(await events.head());
      } catch (err) {
        log.warn({ err }, 'cannot initialise the event checkpoint yet');
      }
      refresher = setInterval(() => void refresh().catch((err) => log.warn({ err }, 'workflow refresh failed')), options.refreshMs ?? 1000);
      unsubscribe = options.workflows.subscribe?.(() => void refresh().catch(() => undefined));
      leadership = options.coordination.runAsLeader(DISPATCHER_LEASE, {
        ttlMs: options.lockTtlMs ?? 10_000,
        retryMs: options.retryMs ?? 1000,
        work: dispatch,
        onError: (err) => log.warn({ err }, 'event dispatch failed; resuming from the last checkpoint'),
      });
    },
    async stop() {
      if (!leadership) return;
      clearInterval(refresher);
      unsubscribe?.();
      await leadership.stop();
      leadership = undefined;
    },
  };
}
