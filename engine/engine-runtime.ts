import { randomUUID } from 'node:crypto';
import type { CoreConfig } from './config.ts';
import type { EmitEvent } from './domain/emit.ts';
import type { RunWorker } from './ports/run-queue.ts';
import type { SandboxHost } from './ports/sandbox-host.ts';
import { holdToCeilings } from './runs/ceiling-store.ts';
import { RUN_CANCEL_CHANNEL } from './runs/run-canceller.ts';
import { createRunExecutor, type RunExecutor } from './runs/run-executor.ts';
import { createSignalsCapability } from './runs/signals-capability.ts';
import { createStateCapability } from './runs/state-capability.ts';
import type { DryRunDeps } from './runs/dry-run-capabilities.ts';
import type { UsageStash } from './runs/usage-stash.ts';
import type { Capabilities } from './sandbox/capabilities.ts';
import { createCronScheduler, type CronScheduler, type Clock } from './triggers/cron-scheduler.ts';
import type { Logger } from './shared/logger.ts';
import { settlesWithin } from './shared/wait.ts';
import type { Stores } from './system.ts';

/** How long the forced close of the queue worker may take before shutdown goes on without it. */
const FORCE_CLOSE_MS = 2_000;

/**
 * Resolves 'drained' once no run has been executing for a second (a job the worker was just
 * handing over gets that long to show up), checked every 100 ms until `stop` settles.
 */
function untilDrained(executor: { active(): number }, stop: Promise<unknown>): Promise<'drained'> {
  return new Promise((resolve) => {
    let idle = 0;
    const t = setInterval(() => {
      idle = executor.active() === 0 ? idle + 1 : 0;
      if (idle < 10) return;
      clearInterval(t);
      resolve('drained');
    }, 100);
    t.unref();
    void stop.then(() => clearInterval(t));
  });
}

export interface Engine {
  id: string;
  executor: RunExecutor;
  cron: CronScheduler;
  /** Whether the worker and its blocking queue connection are healthy. */
  healthy(): boolean;
  /** Stops taking runs, waits up to the grace period for running ones, then stops. */
  stop(): Promise<void>;
}

/** The ports an engine replica works with: the shared stores, less the API's canceller. */
export type EngineStores = Omit<Stores, 'canceller'>;

export interface EngineOptions {
  config: CoreConfig;
  stores: EngineStores;
  sandbox: SandboxHost;
  /** Capabilities beyond the built-in `state` and `signals`: gateways, deployments, events, metrics. */
  capabilities?: Capabilities;
  /** How dry runs check the effects of those capabilities without applying them (the gateway service, the scheduler, the event bus). */
  dryRun?: Omit<DryRunDeps, 'signals'>;
  emit: EmitEvent;
  logger: Logger;
  /** Where the sandbox's budget decorator leaves each attempt's usage (boot/engine.ts); the executor stores it with the outcome. */
  usage?: Pick<UsageStash, 'take'>;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  clock?: Clock;
  /** Start the cron scheduler (default true). */
  cron?: boolean;
}

/** Beats an engine may miss before its heartbeat expires (and its runs stop blocking their workflows). */
const HEARTBEAT_TTL_BEATS = 5;

/**
 * One engine replica: a queue worker executing runs in the sandbox, a cron scheduler, a
 * listener for cancellations, and a heartbeat the API's /readyz reads.
 */
export async function startEngine(o: EngineOptions): Promise<Engine> {
  const id = `${process.pid}-${randomUUID().slice(0, 6)}`;
  const { stores, config, logger } = o;
  const log = logger.child({ component: 'engine', engineId: id });
  // Runs of this engine that took a signal: only their end needs a store call to settle it.
  const heldSignals = new Set<string>();
  const executor = createRunExecutor({
    // Runs get their version's limits held to the operator's ceilings (lowered since upload, say).
    workflows: holdToCeilings(stores.workflows, config.engine.ceilings, log),
    runs: stores.runs,
    queue: stores.queue,
    sandbox: o.sandbox,
    emit: o.emit,
    logger: log,
    resultMaxBytes: config.engine.resultMaxBytes,
    capabilities: { state: createStateCapability(stores.state), signals: createSignalsCapability(stores.signals, heldSignals), ...o.capabilities },
    heldSignals,
    signals: stores.signals,
    triggerHistory: stores.triggerHistory,
    engineId: id,
    dryRun: o.dryRun,
    usage: o.usage,
  });

  const stopListening = await stores.coordination.listen(RUN_CANCEL_CHANNEL, (msg) => {
    try {
      const { runId, reason } = JSON.parse(msg) as { runId: string; reason: string };
      if (executor.abort(runId, reason)) log.info({ runId, reason }, 'run cancel requested');
    } catch {
      /* not ours */
    }
  });

  const worker: RunWorker = stores.queue.work({
    concurrency: config.engine.concurrency,
    lockDurationMs: o.lockDurationMs ?? config.engine.jobLockMs,
    // A crashed engine's lock lapses at most one lock after its last renewal, and the next stalled
    // check moves the run back: checking every quarter lock resumes it within 1.25 × VEER_JOB_LOCK_MS
    // (checking once a lock, as before, took up to 2 ×). One cheap Lua call per check and engine.
    stalledIntervalMs: o.stalledIntervalMs ?? Math.max(100, Math.floor(config.engine.jobLockMs / 4)),
    // A stored `limits.concurrency` above a lowered ceiling is held to it.
    maxGroupConcurrency: config.engine.ceilings.concurrency,
    process: (job) => executor.execute(job),
    onError: (err) => log.error({ err }, 'queue worker error'),
  });

  const cron = createCronScheduler({
    triggers: stores.triggers,
    workflows: stores.workflows,
    launcher: stores.launcher,
    recorder: stores.recorder,
    runs: stores.runs,
    logger: log,
    catchUp: config.engine.cronCatchUp,
    catchUpWindowMs: config.engine.cronCatchUpWindowMs,
    clock: o.clock,
  });
  if (o.cron !== false) await cron.start();

  const beat = () =>
    stores.coordination.engines.beat(
      { id, pid: process.pid, healthy: worker.healthy(), active: executor.active(), at: new Date().toISOString() },
      config.engine.heartbeatMs * HEARTBEAT_TTL_BEATS,
    );
  await worker.ready();
  await beat().catch(() => undefined);
  const heartbeat = setInterval(() => void beat().catch((err) => log.warn({ err: err.message }, 'engine heartbeat failed')), config.engine.heartbeatMs);
  heartbeat.unref();

  log.info({ concurrency: config.engine.concurrency }, 'engine started');
  let stopping: Promise<void> | undefined;
  return {
    id,
    executor,
    cron,
    healthy: () => worker.healthy(),
    stop() {
      stopping ??= (async () => {
        clearInterval(heartbeat);
        await cron.stop();
        const graceful = worker.close();
        const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), config.engine.shutdownGraceMs).unref());
        // With Redis unreachable the graceful close never returns even with nothing running:
        // once no run is left there is nothing to wait for.
        const drained = untilDrained(executor, timeout);
        const first = await Promise.race([graceful.then(() => 'done' as const), drained, timeout]);
        if (first !== 'done') {
          // Left to the queue's stalled-job recovery: another replica (or the next start) resumes them as a new attempt.
          if (first === 'timeout') {
            log.warn({ active: executor.active() }, 'shutdown grace period over; leaving unfinished runs to be resumed by another engine');
            executor.abandon();
          }
          const forced = await settlesWithin(worker.close(true), FORCE_CLOSE_MS);
          if (!forced) log.warn({ ms: FORCE_CLOSE_MS }, 'the queue worker did not close (Redis unreachable?); going on without it');
        }
        await stores.coordination.engines.remove(id).catch(() => undefined);
        stopListening();
        log.info('engine stopped');
      })();
      return stopping;
    },
  };
}
