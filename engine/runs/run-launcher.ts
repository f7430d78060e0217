import { randomUUID } from 'node:crypto';
import { DEFAULT_WORKFLOW_CONCURRENCY } from '../domain/ceilings.ts';
import type { Run, RunTrigger } from '../domain/run.ts';
import type { SkipReason, TriggerKind } from '../domain/trigger-record.ts';
import { overlapOf, type OverlapPolicy, type Workflow } from '../domain/workflow.ts';
import type { Coordination } from '../ports/coordination.ts';
import type { RunQueue } from '../ports/run-queue.ts';
import type { RunStore } from '../ports/run-store.ts';
import type { SignalStore } from '../ports/signal-store.ts';
import type { WorkflowStore } from '../ports/workflow-store.ts';
import { ValidationError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { TriggerIds, TriggerRecorder } from '../triggers/trigger-recorder.ts';
import type { RunCanceller } from './run-canceller.ts';
import type { RunLauncher, StartRunResult } from './launcher.ts';
import { versionStamp } from './version-cache.ts';

/** How long a dedupe key (cron tick, event id) is remembered. */
const DEDUPE_TTL_MS = 7 * 24 * 3600_000;
/** Dedupe values that are not run ids: the trigger was decided and skipped (so replicas do not record it twice). */
const SKIPPED_PREFIX = 'skipped:';

/** Run ids sort by creation time, which keeps logs and listings readable. */
export function newRunId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${randomUUID().slice(0, 8)}`;
}

const kindOf = (t: RunTrigger): TriggerKind | undefined => (t.type === 'manual' ? undefined : t.type);

function idsOf(t: RunTrigger): TriggerIds {
  if (t.type === 'cron') return { tick: t.tick };
  if (t.type === 'event') return { eventId: t.eventId };
  if (t.type === 'signal') return { signalId: t.signalId };
  if (t.type === 'elasticsearch') return { index: t.index };
  return {};
}

export interface RunLauncherOptions {
  workflows: WorkflowStore;
  runs: RunStore;
  queue: RunQueue;
  canceller: RunCanceller;
  logger: Logger;
  /** Where every trigger outcome (fired, queued, skipped) is recorded. */
  recorder: TriggerRecorder;
  /** Fresh engine heartbeats: a running run whose engine is not among them no longer blocks its workflow. */
  engines: Pick<Coordination['engines'], 'list'>;
  /** A stale run's taken signals go back to the inbox for the run that supersedes it. */
  signals: Pick<SignalStore, 'restore'>;
}

/**
 * The one way anything starts a run. Automatic starts are decided in this order: paused,
 * disabled, then overlap (`overlapOf`); the dedupe key is claimed only after the decision, and
 * a skip claims it with a `skipped:<reason>` marker rather than a run id that never existed.
 * Every automatic outcome is recorded (trigger history, skip counter, `trigger.skipped`).
 */
export function createRunLauncher(options: RunLauncherOptions): RunLauncher {
  const { workflows, runs, queue, canceller, logger, recorder } = options;

  async function claim(name: string, key: string | undefined, value: string): Promise<{ won: true } | { won: false; runId?: string }> {
    if (!key) return { won: true };
    const c = await runs.claimDedupe(name, key, value, DEDUPE_TTL_MS);
    if (c.claimed) return { won: true };
    return { won: false, runId: c.runId && !c.runId.startsWith(SKIPPED_PREFIX) ? c.runId : undefined };
  }

  async function skip(wf: Workflow, trigger: RunTrigger, dedupeKey: string | undefined, reason: SkipReason, runId?: string): Promise<StartRunResult> {
    // Elasticsearch triggers poll the same documents again after a busy skip, so theirs stays unclaimed.
    const retried = trigger.type === 'elasticsearch' && (reason === 'overlap' || reason === 'queue_full');
    const won = await claim(wf.name, retried ? undefined : dedupeKey, `${SKIPPED_PREFIX}${reason}`);
    if (!won.won) return { started: false, reason: 'duplicate', runId: won.runId };
    const kind = kindOf(trigger);
    if (kind) await recorder.skipped(wf.name, kind, reason, { ...idsOf(trigger), ...(runId ? { runId } : {}), ...hopsOf(trigger) });
    return { started: false, reason, ...(runId ? { runId } : {}) };
  }

  return {
    async start(name, opts) {
      const wf = await workflows.require(name);
      const trigger = opts.trigger;
      const manual = trigger.type === 'manual';
      if (opts.dryRun && !manual) throw new ValidationError('dryRun: only manual runs can be dry runs', [{ path: 'dryRun', message: 'only for manual runs' }]);
      let queued = false;
      // Triggers obey pause, `enabled` and overlap; a person asking for a run gets one.
      if (!manual) {
        if (wf.paused) return skip(wf, trigger, opts.dedupeKey, 'paused');
        if (!wf.enabled) return skip(wf, trigger, opts.dedupeKey, 'disabled');
        const policy = policyFor(wf, trigger);
        if (policy !== 'allow') {
          const active = await liveRuns(wf, trigger);
          if (active.length > 0) {
            if (policy === 'skip') return skip(wf, trigger, opts.dedupeKey, 'overlap', active[0].id);
            if (policy === 'queue') {
              const waiting = active.filter((r) => r.status === 'queued').length;
              if (waiting >= wf.overlapQueue) return skip(wf, trigger, opts.dedupeKey, 'queue_full', active[0].id);
              queued = true;
            } else {
              for (const r of active) await canceller.cancel(r.id, 'replaced by a newer run (overlap: replace)');
            }
          }
        }
      }
      const id = newRunId();
      if (!opts.dryRun) {
        const won = await claim(name, opts.dedupeKey, id);
        if (!won.won) return { started: false, reason: 'duplicate', runId: won.runId };
      }
      const run: Run = {
        id,
        workflow: name,
        workflowVersion: wf.version,
        status: 'queued',
        trigger,
        input: opts.input ?? null,
        attempts: 0,
        maxAttempts: wf.retries.attempts,
        queuedAt: new Date().toISOString(),
        ...(opts.dryRun ? { dryRun: true } : {}),
      };
      // A dry run is not "active": it must not make a trigger skip or queue.
      await runs.create(run, { active: !opts.dryRun });
      // The workflow is the fairness group: its runs beyond `limits.concurrency` wait (that is
      // what makes a queued run wait for the active one), and other workflows' runs take the free slots.
      await queue.enqueue(id, {
        attempts: wf.retries.attempts,
        backoffMs: wf.retries.backoffMs,
        group: { id: name, concurrency: wf.limits.concurrency ?? DEFAULT_WORKFLOW_CONCURRENCY },
        // Lets the engine serve this version from its cache (a reused name numbers versions from 1 again).
        versionStamp: versionStamp(wf),
      });
      const kind = kindOf(trigger);
      if (kind) await recorder.fired(name, kind, id, queued, idsOf(trigger));
      return { started: true, run, queued };
    },
  };

  /**
   * Queued or running runs that still hold the workflow: records that are final or gone are
   * dropped (a crash between steps), and so is a running run whose engine's heartbeat has
   * expired — it is ended as RUN.ENGINE_LOST, its group slot freed and its signals handed back,
   * instead of blocking every trigger until stalled-job recovery (which then finds it ended).
   */
  async function liveRuns(wf: Workflow, trigger: RunTrigger): Promise<Run[]> {
    const ids = await runs.activeIds(wf.name);
    const live: Run[] = [];
    let engines: Set<string> | undefined;
    for (const id of ids) {
      const run = await runs.get(id);
      if (!run || (run.status !== 'queued' && run.status !== 'running')) {
        await runs.removeActive(wf.name, id);
        continue;
      }
      if (run.status === 'running' && run.engineId) {
        engines ??= new Set((await options.engines.list()).map((e) => e.id));
        if (!engines.has(run.engineId)) {
          await endStale(wf, run, trigger);
          continue;
        }
      }
      live.push(run);
    }
    return live;
  }

  async function endStale(wf: Workflow, run: Run, by: RunTrigger): Promise<void> {
    // Names the trigger that found it, not a run id: that run may yet lose its dedupe claim to another replica and never exist.
    const message = `engine ${run.engineId} stopped (no heartbeat) during attempt ${run.attempts}; ended by the workflow's next trigger (${describeTrigger(by)}), whose run does not wait for it`;
    const now = new Date();
    const ended = await runs.transition(run.id, ['running'], {
      status: 'failed',
      finishedAt: now.toISOString(),
      durationMs: run.startedAt ? now.getTime() - Date.parse(run.startedAt) : undefined,
      error: { code: 'RUN.ENGINE_LOST', message },
    });
    await runs.removeActive(wf.name, run.id);
    if (!ended) return;
    logger.warn({ workflow: wf.name, runId: run.id, engineId: run.engineId }, 'run of a dead engine ended as RUN.ENGINE_LOST');
    await runs.appendLog(run.id, { time: now.toISOString(), level: 'warn', message, attempt: run.attempts }).catch(() => undefined);
    await queue
      .releaseGroupSlot(run.id, { id: wf.name, concurrency: wf.limits.concurrency ?? DEFAULT_WORKFLOW_CONCURRENCY })
      .catch((err) => logger.warn({ err, runId: run.id }, 'could not free the group slot of a dead engine'));
    await options.signals.restore(wf.name, run.id).catch((err) => logger.warn({ err, runId: run.id }, 'could not hand back the signals of a dead run'));
  }
}

/** An operator's signal must not be dropped while a run is mid-way: for signal starts, `skip` queues. */
function policyFor(wf: Workflow, trigger: RunTrigger): OverlapPolicy {
  const policy = overlapOf(wf);
  return trigger.type === 'signal' && policy === 'skip' ? 'queue' : policy;
}

function describeTrigger(t: RunTrigger): string {
  if (t.type === 'cron') return `cron tick ${t.tick}`;
  if (t.type === 'event') return `event ${t.eventId}`;
  if (t.type === 'signal') return `signal ${t.name} ${t.signalId}`;
  if (t.type === 'elasticsearch') return `${t.count} documents of ${t.index}`;
  return t.type;
}

function hopsOf(trigger: RunTrigger): { hops?: number } {
  return trigger.type === 'event' && trigger.hops ? { hops: trigger.hops } : {};
}
