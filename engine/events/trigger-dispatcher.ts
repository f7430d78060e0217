import { matchesFilter, sourceAccepted, type VeerEvent } from '../domain/event.ts';
import type { RunTrigger } from '../domain/run.ts';
import { isEventTrigger, type Workflow } from '../domain/workflow.ts';
import type { Coordination, Lease, Leadership } from '../ports/coordination.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { TriggerState } from '../ports/trigger-state.ts';
import type { RunLauncher } from '../runs/launcher.ts';
import { VeerError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { TriggerRecorder } from '../triggers/trigger-recorder.ts';

/**
 * Starts workflows whose `events` trigger matches stored events. One replica dispatches
 * (the `events:dispatcher` lease); it tails the event store from a checkpoint kept in the
 * trigger state and moves the checkpoint only after every start for a batch succeeded
 * (and only while it holds the lease), so delivery is at-least-once and the launcher's
 * dedupe key (`event:<id>`) makes it at-most-one run per event and workflow. A restart, or a standby taking over, resumes at the checkpoint.
 *
 * Events are not a way around permissions: a trigger's `sources` decide whose events may
 * start it, and an event more than `maxHops` event-triggered runs away from its origin
 * starts nothing (two workflows triggering each other would otherwise run forever); it is
 * reported once per workflow as a `trigger.skipped` event with reason `loop`.
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
  /** Records trigger loops (the launcher records the rest); absent: loops are only logged. */
  recorder?: TriggerRecorder;
  logger: Logger;
  /** How often the workflow list is re-read (ms). Default 1000. */
  refreshMs?: number;
  /** Lease TTL (ms): how long a dead dispatcher blocks a standby. Default 10 000. */
  lockTtlMs?: number;
  /** Pause before retrying after a failed start or store error (ms); grows while failures repeat. Default 1000. */
  retryMs?: number;
  /** Events with more hops than this start no run (VEER_EVENTS_MAX_HOPS). Default 3. */
  maxHops?: number;
}

export const DEFAULT_MAX_HOPS = 3;

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
  const maxHops = options.maxHops ?? DEFAULT_MAX_HOPS;
  const log = options.logger.child({ component: 'event-triggers' });
  let triggered: Workflow[] = [];
  let leadership: Leadership | undefined;
  let refresher: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  async function refresh(): Promise<void> {
    const all = await options.workflows.list();
    // Disabled and paused workflows stay matched: the launcher refuses their events visibly.
    triggered = all.filter((w) => isEventTrigger(w.trigger));
  }

  /** Says why a matching workflow did not start; never fails the dispatch (a lost notice is only a lost notice). */
  async function reportLoop(wf: Workflow, event: VeerEvent, hops: number): Promise<void> {
    // Notices are never reported, and carry the hops of what they report: no loop of notices.
    if (event.type === 'trigger.skipped') return;
    log.warn({ workflow: wf.name, eventId: event.id, hops, maxHops }, 'event trigger skipped: trigger loop');
    await options.recorder?.skipped(wf.name, 'event', 'loop', { eventId: event.id, hops, eventContext: { maxHops, source: event.source ?? null } });
  }

  async function startRuns(event: VeerEvent): Promise<void> {
    const hops = event.hops ?? 0;
    for (const wf of triggered) {
      if (!isEventTrigger(wf.trigger) || !matchesFilter(event, wf.trigger.events)) continue;
      // Its own events (script emits, its run lifecycle) never start a workflow again: no loops.
      if (event.tags.includes(`workflows:${wf.name}`)) continue;
      if (!sourceAccepted(wf.trigger.events.sources, event.source)) continue;
      if (hops > maxHops) {
        await reportLoop(wf, event, hops);
        continue;
      }
      // The run's trigger record carries the hops, so what the run emits counts one more.
      const trigger: RunTrigger & { hops?: number } = { type: 'event', eventId: event.id, ...(hops > 0 ? { hops } : {}) };
      try {
        const res = await launcher.start(wf.name, { input: event, trigger, dedupeKey: `event:${event.id}` });
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
      // Re-read the workflows before each batch: a workflow stored before its first event was
      // posted must see it, and the change signal may arrive after the event (one list read a batch).
      await refresh();
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
