import type { EmitEvent } from '../domain/emit.ts';
import { hopsCausedBy } from '../domain/event.ts';
import type { DryRunResult, LogLevel, Run, RunError } from '../domain/run.ts';
import type { Workflow } from '../domain/workflow.ts';
import type { RunJob, RunJobOutcome, RunQueue } from '../ports/run-queue.ts';
import type { RunStore } from '../ports/run-store.ts';
import type { SandboxHost, SandboxOutcome } from '../ports/sandbox-host.ts';
import type { SignalStore } from '../ports/signal-store.ts';
import type { TriggerHistory } from '../ports/trigger-history.ts';
import type { WorkflowStore } from '../ports/workflow-store.ts';
import type { Capabilities, RunScope } from '../sandbox/capabilities.ts';
import type { QuarantineReadAtStart } from '../sandbox/quarantine-guard.ts';
import type { Quarantine } from '../ports/quarantine.ts';
import type { SecretRedactor } from '../ports/sandbox-host.ts';
import { createRedactor } from '../connect/redactor.ts';
import type { Logger } from '../shared/logger.ts';
import { VeerError } from '../shared/errors.ts';
import { Backoff } from '../shared/retry.ts';
import { dryRunCapabilities, type DryRunDeps } from './dry-run-capabilities.ts';
import type { UsageStash } from './usage-stash.ts';
import { createVersionCache } from './version-cache.ts';

export interface RunExecutor {
  /** The queue worker's processor: 'retry' asks the queue for another attempt (with backoff), 'done' ends the job. */
  execute(job: RunJob): Promise<RunJobOutcome>;
  /** Aborts a run executing in this process; false if it is not here. */
  abort(runId: string, reason: string): boolean;
  /** Runs executing in this process now. */
  active(): number;
  /**
   * Shutdown past its grace period: runs still executing are left for another engine to resume.
   * Their attempts end (the sandbox is closed next) without recording an outcome, so a run cut
   * short by shutdown is resumed as the README promises, never stored as cancelled or failed.
   */
  abandon(): void;
}

export interface RunExecutorOptions {
  workflows: WorkflowStore;
  runs: RunStore;
  sandbox: SandboxHost;
  capabilities: Capabilities;
  emit: EmitEvent;
  logger: Logger;
  resultMaxBytes: number;
  queue: RunQueue;
  /** The inboxes whose signals a run's end settles (commit on success, restore otherwise). */
  signals: SignalStore;
  /** Where cron tick lateness is counted. */
  triggerHistory: Pick<TriggerHistory, 'recordCronLateness'>;
  /** Runs of this process that took a signal (filled by ctx.signals); without it every run's end settles. */
  heldSignals?: Set<string>;
  /** This engine's id, stamped on each attempt (Run.engineId) so a dead engine's run can be told apart. */
  engineId: string;
  /** How dry runs check effects without applying them; without it dry runs get only the capabilities that read. */
  dryRun?: Omit<DryRunDeps, 'signals'>;
  /** Where the budgeted sandbox left each attempt's usage; it is written with the attempt's outcome. */
  usage?: Pick<UsageStash, 'take'>;
}

/** Codes a retry cannot change: the run ends at once, whatever `retries` says. */
const FINAL_CODES: ReadonlySet<string> = new Set(['SANDBOX.QUARANTINED']);
/** Free re-runs after SANDBOX.PROCESS_LOST; the re-run has a process of its own, so one is enough. */
const MAX_PROCESS_LOST_RERUNS = 2;

/**
 * The outcome of an attempt abandoned at shutdown: never settles, so the queue never completes
 * or fails the job; its lock lapses with this process and another engine resumes the run.
 */
function leftForResume(): Promise<RunJobOutcome> {
  return new Promise(() => {});
}

/** The store could not be reached (REDIS.UNAVAILABLE and kin), as opposed to refusing the write. */
const isUnavailable = (err: unknown): boolean => err instanceof VeerError && err.retryable;

export function createRunExecutor(o: RunExecutorOptions): RunExecutor {
  const inFlight = new Map<string, AbortController>();
  let abandoned = false;
  /**
   * The write that ends an attempt waits out a store outage (a Redis failover takes seconds)
   * instead of losing what the run did or calling a good result unstorable; it gives up only
   * when the engine is shutting down, and the run is then resumed elsewhere.
   */
  async function untilStored<T>(write: () => Promise<T>): Promise<T> {
    const backoff = new Backoff({ minMs: 50, maxMs: 2000 });
    for (;;) {
      try {
        return await write();
      } catch (err) {
        if (!isUnavailable(err) || abandoned) throw err;
        await backoff.wait();
      }
    }
  }
  // A stored version never changes: each run of it need not fetch and parse it again.
  const versions = createVersionCache(o.workflows);
  /** The attempt's budget usage, for the write that ends the attempt. */
  const usageOf = (run: Run): Partial<Run> => {
    const budget = o.usage?.take(run.id);
    return budget ? { budget } : {};
  };

  /** The final transition; false when the run had already ended (cancelled meanwhile). */
  async function finish(run: Run, wf: Workflow | undefined, patch: Partial<Run>, startedMs: number): Promise<boolean> {
    const finishedAt = new Date();
    const durationMs = finishedAt.getTime() - startedMs;
    // One step: the outcome, the active set left and the stats counted (RunStore.finish).
    const outcome = { ...usageOf(run), ...patch, status: patch.status!, finishedAt: finishedAt.toISOString(), durationMs };
    let tries = 0;
    const applied = await untilStored(async () => {
      if ((tries += 1) === 1) return o.runs.finish(run.id, run.workflow, ['running', 'queued'], outcome);
      // A retry after a lost reply finds the run already ended: by this very write when it carries our finishedAt.
      return (await o.runs.finish(run.id, run.workflow, ['running', 'queued'], outcome)) || (await o.runs.get(run.id))?.finishedAt === outcome.finishedAt;
    });
    if (!applied) return false;
    // A dry run changes nothing in the event store, its own lifecycle included.
    if (run.dryRun) return true;
    const type = patch.status === 'succeeded' ? 'run.succeeded' : patch.status === 'cancelled' ? 'run.cancelled' : 'run.failed';
    void o.emit({
      tags: ['runs', 'workflows', `workflows:${run.workflow}`, `runs:${patch.status}`],
      type,
      // Other workflows may read these events: the error's code only, never its message (it can carry secrets).
      value: {
        runId: run.id,
        workflow: run.workflow,
        version: wf?.version ?? run.workflowVersion,
        status: patch.status,
        error: patch.error ? { code: patch.error.code } : undefined,
        durationMs,
      },
      // What a run causes counts one hop more than what triggered it, so loops through run events end too.
      hops: hopsCausedBy(run.trigger),
    });
    return true;
  }

  function emitStarted(run: Run, wf: Workflow, attempt: number): void {
    if (run.dryRun) return;
    void o.emit({
      tags: ['runs', 'workflows', `workflows:${run.workflow}`, 'runs:started'],
      type: 'run.started',
      value: { runId: run.id, workflow: run.workflow, version: wf.version, attempt },
      hops: hopsCausedBy(run.trigger),
    });
  }

  const appendLog = (run: Run, attempt: number, level: LogLevel, message: string, log: Logger) =>
    o.runs.appendLog(run.id, { time: new Date().toISOString(), level, attempt, message }).catch((err) => log.warn({ err }, 'could not append to run log'));

  /**
   * Settles the signals the run took, the one place it is done: `commit` once it succeeded,
   * `restore` after anything else (failed, timed out, cancelled, to be retried, interrupted),
   * before the next attempt or the final transition, so that attempt or the next run takes
   * them again. A dry run took nothing. A store failure is logged, never thrown: the run must
   * still end (the signals then stay held by it).
   */
  async function settleSignals(run: Run, how: 'commit' | 'restore', attempt: number, log: Logger, interrupted = false): Promise<void> {
    if (run.dryRun) return;
    // Only runs that took a signal in this process have anything to settle (one store call a run
    // saved on the hot path); an interrupted attempt's takes happened elsewhere, so it always looks.
    if (!interrupted && o.heldSignals && !o.heldSignals.delete(run.id)) return;
    try {
      const n = how === 'commit' ? await o.signals.commit(run.workflow, run.id) : await o.signals.restore(run.workflow, run.id);
      if (how === 'restore' && n > 0)
        await appendLog(run, attempt, 'info', `${n} signal${n === 1 ? '' : 's'} taken by this run handed back to the inbox (the run did not succeed)`, log);
    } catch (err) {
      log.warn({ err, how }, 'could not settle the signals the run took');
      await appendLog(run, attempt, 'warn', `could not ${how} the signals this run took: ${(err as Error).message}`, log);
    }
  }

  /** Tick → start of a cron run's first attempt; catch-up ticks are late by design and would only blur the histogram. */
  function recordLateness(run: Run, attempt: number, startMs: number, log: Logger): void {
    if (attempt !== 1 || run.trigger.type !== 'cron' || run.trigger.catchUp) return;
    const tick = Date.parse(run.trigger.tick);
    if (!Number.isFinite(tick)) return;
    o.triggerHistory.recordCronLateness(Math.max(0, startMs - tick)).catch((err) => log.warn({ err }, 'could not record cron lateness'));
  }

  /** One attempt in the sandbox, with its own scope, deadline and cancellation. */
  async function attemptInSandbox(
    run: Run,
    wf: Workflow,
    attempt: number,
    startedMs: number,
    log: Logger,
    secrets: SecretRedactor,
    quarantineAtStart?: Quarantine | null,
  ): Promise<{ outcome: SandboxOutcome; scope: RunScope }> {
    // A dry run's overlays and effects are per attempt: a retried attempt starts from the real state again.
    const dry = run.dryRun ? dryRunCapabilities(o.capabilities, { ...o.dryRun, signals: o.signals }) : undefined;
    const controller = new AbortController();
    inFlight.set(run.id, controller);
    const scope: RunScope & QuarantineReadAtStart = {
      ...(quarantineAtStart !== undefined ? { quarantineAtStart } : {}),
      runId: run.id,
      attempt,
      workflow: { name: wf.name, version: wf.version, permissions: wf.permissions },
      signal: controller.signal,
      deadline: startedMs + wf.limits.timeoutMs,
      hops: hopsCausedBy(run.trigger),
      secrets,
      // Every log entry passes the redactor: a secret the run read is `***` here.
      log: (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
        o.runs
          .appendLog(run.id, { time: new Date().toISOString(), level, message: secrets.redact(message), fields: secrets.redact(fields), attempt })
          .catch((err) => log.warn({ err }, 'could not append to run log'));
      },
    };
    log.info({ attempt, trigger: run.trigger }, 'run started');
    try {
      const outcome = await o.sandbox.run(
        {
          code: wf.compiled,
          context: { input: run.input, env: wf.env, workflow: { name: wf.name, version: wf.version }, run: { id: run.id, attempt, trigger: run.trigger } },
          limits: {
            timeoutMs: wf.limits.timeoutMs,
            memoryMb: wf.limits.memoryMb,
            cpuMs: wf.limits.cpuMs ?? wf.limits.timeoutMs,
            maxResultBytes: o.resultMaxBytes,
          },
          capabilities: dry?.capabilities ?? o.capabilities,
          scope,
        },
        controller.signal,
      );
      if (outcome.status !== 'succeeded') {
        await settleSignals(run, 'restore', attempt, log);
        // The error is stored, logged and shown: a secret the run read never is.
        return { outcome: { status: outcome.status, error: secrets.redact(outcome.error) }, scope };
      }
      if (dry)
        return { outcome: { status: 'succeeded', result: secrets.redact({ value: outcome.result, effects: dry.effects } satisfies DryRunResult) }, scope };
      return { outcome: { status: 'succeeded', result: secrets.redact(outcome.result) }, scope };
    } finally {
      inFlight.delete(run.id);
    }
  }

  return {
    abort(runId, reason) {
      const c = inFlight.get(runId);
      if (!c) return false;
      c.abort(new Error(reason));
      return true;
    },
    active: () => inFlight.size,
    abandon() {
      abandoned = true;
    },

    async execute(job) {
      try {
        return await attemptRun(job);
      } catch (err) {
        // Redis went away mid-attempt (a failover): failing the job would leave the run queued or
        // running with no job behind it. Once the store answers again the job is tried anew
        // without spending an attempt; the record then shows the attempt as interrupted.
        if (!isUnavailable(err) || abandoned) throw err;
        o.logger.warn({ runId: job.runId, err: (err as Error).message }, 'the store is unreachable during an attempt; trying the run again once it answers');
        o.usage?.take(job.runId); // the attempt is over; its usage is not written
        await untilStored(() => o.runs.get(job.runId));
        return 'later';
      }
    },
  };

  /** One attempt of a job's run, from reading the run to its outcome. */
  async function attemptRun(job: RunJob): Promise<RunJobOutcome> {
    const firstStartMs = Date.now();
    const attemptStart = new Date(firstStartMs).toISOString();
    // Read and moved to running in one step (RunStore.begin): a resumed run keeps its first
    // start, and one found still running had its attempt interrupted, which costs no retry.
    const { run, quarantine } = await o.runs.begin(job.runId, { at: attemptStart, engineId: o.engineId });
    if (!run || (run.status !== 'queued' && run.status !== 'running')) return 'done'; // cancelled before it started, or expired
    let attempt = run.attempts + 1;
    let interrupted = (run.interrupted ?? 0) + (run.status === 'running' ? 1 : 0);
    const log = o.logger.child({ runId: run.id, workflow: run.workflow });
    const wf = await versions.get(run.workflow, run.workflowVersion, job.versionStamp);
    // An interrupted attempt (engine crash) could not settle what it took: hand it back before anything runs again.
    if (run.status === 'running') await settleSignals(run, 'restore', attempt, log, true);
    recordLateness(run, attempt, firstStartMs, log);
    if (!wf) {
      await finish(
        run,
        undefined,
        { status: 'failed', error: { code: 'RUN.WORKFLOW_GONE', message: `workflow '${run.workflow}' version ${run.workflowVersion} no longer exists` } },
        firstStartMs,
      );
      return 'done';
    }
    if (run.status === 'running') {
      // The previous attempt was interrupted (engine crash, stalled job) before it could finish.
      await o.runs.appendLog(run.id, {
        time: new Date().toISOString(),
        level: 'warn',
        attempt,
        message: `attempt ${run.attempts} was interrupted (engine stopped or stalled); starting attempt ${attempt}`,
      });
    }
    emitStarted(run, wf, attempt);
    let startedMs = firstStartMs;
    // One per run: a secret read by an attempt stays redacted in what later attempts write.
    const secrets = createRedactor();
    // The quarantine begin read goes with this attempt only: a re-run below has the guard read it again.
    let { outcome, scope } = await attemptInSandbox(run, wf, attempt, startedMs, log, secrets, quarantine);
    if (abandoned && outcome.status !== 'succeeded') return leftForResume();
    // The sandbox process this attempt shared died, and any run in it may have caused that:
    // run again at once, alone in a fresh process (the sandbox remembers the run id), at no
    // cost to `retries`. A script that kills its process alone then fails as the culprit.
    for (let rerun = 1; outcome.status === 'failed' && outcome.error.code === 'SANDBOX.PROCESS_LOST' && rerun <= MAX_PROCESS_LOST_RERUNS; rerun++) {
      scope.log(
        'warn',
        `attempt ${attempt}: ${outcome.error.message}; retrying once in a fresh process of its own (this does not count against retries.attempts)`,
        {
          code: outcome.error.code,
        },
      );
      startedMs = Date.now();
      const again = await o.runs.transition(run.id, ['running'], {
        ...usageOf(run),
        attempts: attempt + 1,
        attemptStartedAt: new Date(startedMs).toISOString(),
        interrupted: (interrupted += 1),
        error: outcome.error,
      });
      if (!again) return 'done'; // cancelled meanwhile
      attempt++;
      emitStarted(run, wf, attempt);
      ({ outcome, scope } = await attemptInSandbox(run, wf, attempt, startedMs, log, secrets));
      if (abandoned && outcome.status !== 'succeeded') return leftForResume();
    }

    if (outcome.status === 'succeeded') {
      log.info({ attempt, ms: Date.now() - startedMs }, 'run succeeded');
      // Taken once: should the result not be storable, the failed outcome still carries it.
      const usage = usageOf(run);
      try {
        // Committed after the run is recorded as succeeded: a crash in between leaves them held by a succeeded run, i.e.
        // consumed; committing first would lose them if the run were then resumed and failed.
        const succeeded = await finish(run, wf, { status: 'succeeded', result: outcome.result, ...usage }, startedMs);
        await settleSignals(run, succeeded ? 'commit' : 'restore', attempt, log);
      } catch (err) {
        // Redis still away at shutdown: another engine resumes the run.
        if (isUnavailable(err)) return leftForResume();
        // A result the store cannot take must still end the run, or it stays `running` and wedges `overlap: skip`.
        log.warn({ err }, 'could not store the result; ending the run as failed');
        await settleSignals(run, 'restore', attempt, log);
        const message = `the run's result could not be stored (${(err as Error).message}); return plain JSON data`;
        await finish(run, wf, { status: 'failed', error: { code: 'RESULT.UNSERIALISABLE', message }, ...usage }, startedMs);
      }
      return 'done';
    }
    const error: RunError = outcome.error;
    log.info({ attempt, status: outcome.status, code: error.code, error: error.message }, 'run ended without success');
    if (outcome.status === 'cancelled' || FINAL_CODES.has(error.code)) {
      await finish(run, wf, { status: outcome.status, error }, startedMs);
      return 'done';
    }
    // Only the queue's count of failed attempts decides: re-runs after a lost process are free.
    const counted = job.attemptsMade + 1;
    if (counted < job.maxAttempts) {
      const next = wf.retries.backoffMs * 2 ** job.attemptsMade;
      const which = counted === attempt ? `attempt ${attempt} of ${job.maxAttempts}` : `attempt ${attempt} (${counted} of ${job.maxAttempts} counted)`;
      scope.log('warn', `${which} ${outcome.status === 'timed_out' ? 'timed out' : 'failed'}: ${error.message}; retrying in ${next} ms`, {
        code: error.code,
      });
      await o.runs.transition(run.id, ['running'], { ...usageOf(run), status: 'queued', error });
      return 'retry';
    }
    await finish(run, wf, { status: outcome.status, error }, startedMs);
    return 'done';
  }
}
