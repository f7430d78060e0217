import type { EmitEvent } from '../domain/emit.ts';
import type { LogLevel, Run, RunError } from '../domain/run.ts';
import type { Workflow } from '../domain/workflow.ts';
import type { RunJob, RunJobOutcome, RunQueue } from '../ports/run-queue.ts';
import type { RunStats } from '../ports/run-stats.ts';
import type { RunStore } from '../ports/run-store.ts';
import type { SandboxHost } from '../ports/sandbox-host.ts';
import type { WorkflowStore } from '../ports/workflow-store.ts';
import type { Capabilities, RunScope } from '../sandbox/capabilities.ts';
import type { Logger } from '../shared/logger.ts';

export interface RunExecutor {
  /** The queue worker's processor: 'retry' asks the queue for another attempt (with backoff), 'done' ends the job. */
  execute(job: RunJob): Promise<RunJobOutcome>;
  /** Aborts a run executing in this process; false if it is not here. */
  abort(runId: string, reason: string): boolean;
  /** Runs executing in this process now. */
  active(): number;
}

export interface RunExecutorOptions {
  workflows: WorkflowStore;
  runs: RunStore;
  stats: RunStats;
  sandbox: SandboxHost;
  capabilities: Capabilities;
  emit: EmitEvent;
  logger: Logger;
  resultMaxBytes: number;
  queue: RunQueue;
}

export function createRunExecutor(o: RunExecutorOptions): RunExecutor {
  const inFlight = new Map<string, AbortController>();

  async function finish(run: Run, wf: Workflow | undefined, patch: Partial<Run>, startedMs: number): Promise<void> {
    const finishedAt = new Date();
    const durationMs = finishedAt.getTime() - startedMs;
    const applied = await o.runs.transition(run.id, ['running', 'queued'], { ...patch, finishedAt: finishedAt.toISOString(), durationMs });
    await o.runs.removeActive(run.workflow, run.id);
    if (!applied) return;
    await o.stats.recordFinished(patch.status!, durationMs);
    const type = patch.status === 'succeeded' ? 'run.succeeded' : patch.status === 'cancelled' ? 'run.cancelled' : 'run.failed';
    void o.emit({
      tags: ['runs', 'workflows', `workflows:${run.workflow}`, `runs:${patch.status}`],
      type,
      value: { runId: run.id, workflow: run.workflow, version: wf?.version ?? run.workflowVersion, status: patch.status, error: patch.error, durationMs },
    });
  }

  return {
    abort(runId, reason) {
      const c = inFlight.get(runId);
      if (!c) return false;
      c.abort(new Error(reason));
      return true;
    },
    active: () => inFlight.size,

    async execute(job) {
      const run = await o.runs.get(job.runId);
      if (!run || (run.status !== 'queued' && run.status !== 'running')) return 'done'; // cancelled before it started, or expired
      const log = o.logger.child({ runId: run.id, workflow: run.workflow });
      const wf = await o.workflows.getVersion(run.workflow, run.workflowVersion);
      const startedMs = Date.now();
      const attempt = run.attempts + 1;
      const moved = await o.runs.transition(run.id, ['queued', 'running'], {
        status: 'running',
        attempts: attempt,
        startedAt: new Date(startedMs).toISOString(),
      });
      if (!moved) return 'done';
      if (!wf) {
        await finish(
          run,
          undefined,
          { status: 'failed', error: { code: 'RUN.WORKFLOW_GONE', message: `workflow '${run.workflow}' version ${run.workflowVersion} no longer exists` } },
          startedMs,
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
      void o.emit({
        tags: ['runs', 'workflows', `workflows:${run.workflow}`, 'runs:started'],
        type: 'run.started',
        value: { runId: run.id, workflow: run.workflow, version: wf.version, attempt },
      });

      const controller = new AbortController();
      inFlight.set(run.id, controller);
      const deadline = startedMs + wf.limits.timeoutMs;
      const scope: RunScope = {
        runId: run.id,
        attempt,
        workflow: { name: wf.name, version: wf.version, permissions: wf.permissions },
        signal: controller.signal,
        deadline,
        log: (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
          o.runs
            .appendLog(run.id, { time: new Date().toISOString(), level, message, fields, attempt })
            .catch((err) => log.warn({ err }, 'could not append to run log'));
        },
      };
      log.info({ attempt, trigger: run.trigger }, 'run started');
      let outcome;
      try {
        outcome = await o.sandbox.run(
          {
            code: wf.compiled,
            context: { input: run.input, env: wf.env, workflow: { name: wf.name, version: wf.version }, run: { id: run.id, attempt, trigger: run.trigger } },
            limits: {
              timeoutMs: wf.limits.timeoutMs,
              memoryMb: wf.limits.memoryMb,
              cpuMs: wf.limits.cpuMs ?? wf.limits.timeoutMs,
              maxResultBytes: o.resultMaxBytes,
            },
            capabilities: o.capabilities,
            scope,
          },
          controller.signal,
        );
      } finally {
        inFlight.delete(run.id);
      }

      if (outcome.status === 'succeeded') {
        log.info({ attempt, ms: Date.now() - startedMs }, 'run succeeded');
        await finish(run, wf, { status: 'succeeded', result: outcome.result }, startedMs);
        return 'done';
      }
      const error: RunError = outcome.error;
      log.info({ attempt, status: outcome.status, code: error.code, error: error.message }, 'run ended without success');
      if (error.code === 'SANDBOX.CRASHED' && !run.crashRetried) {
        // Several runs share a sandbox process, so this one may only have been next to the
        // script that crashed it: one more try in a fresh process, whatever `retries` says.
        // A script that crashes its process itself will crash again and then fail.
        scope.log('warn', `attempt ${attempt}: ${error.message}; retrying once in a fresh process, since another run sharing it may have caused the crash`, {
          code: error.code,
        });
        await o.runs.transition(run.id, ['running'], { status: 'queued', error, crashRetried: true });
        await o.queue.enqueue(run.id, { attempts: Math.max(1, job.maxAttempts - job.attemptsMade), backoffMs: wf.retries.backoffMs, jobId: `${run.id}-crash` });
        return 'done';
      }
      if (outcome.status === 'cancelled') {
        await finish(run, wf, { status: 'cancelled', error }, startedMs);
        return 'done';
      }
      if (attempt < job.maxAttempts && job.attemptsMade + 1 < job.maxAttempts) {
        const next = wf.retries.backoffMs * 2 ** job.attemptsMade;
        scope.log(
          'warn',
          `attempt ${attempt} of ${job.maxAttempts} ${outcome.status === 'timed_out' ? 'timed out' : 'failed'}: ${error.message}; retrying in ${next} ms`,
          { code: error.code },
        );
        await o.runs.transition(run.id, ['running'], { status: 'queued', error });
        return 'retry';
      }
      await finish(run, wf, { status: outcome.status, error }, startedMs);
      return 'done';
    },
  };
}
