import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CoreConfig } from './config.ts';
import type { EmitEvent } from './domain/emit.ts';
import { createRunWorker, type RunWorker } from './queue/run-queue.ts';
import { createRunExecutor, type RunExecutor } from './runs/run-executor.ts';
import { createStateCapability } from './runs/state-capability.ts';
import type { Capabilities } from './sandbox/capabilities.ts';
import type { SandboxHost } from './ports/sandbox-host.ts';
import { createCronScheduler, type CronScheduler, type Clock } from './triggers/cron-scheduler.ts';
import type { Logger } from './shared/logger.ts';
import type { Stores } from './stores.ts';

export interface Engine {
  id: string;
  executor: RunExecutor;
  cron: CronScheduler;
  /** Whether the worker and its blocking Redis connection are healthy. */
  healthy(): boolean;
  /** Stops taking runs, waits up to the grace period for running ones, then stops. */
  stop(): Promise<void>;
}

export interface EngineOptions {
  config: CoreConfig;
  stores: Stores;
  /** Makes a new Redis connection (the worker and the cancel subscriber each need their own). */
  connect: () => Redis;
  sandbox: SandboxHost;
  /** Capabilities beyond the built-in `state`: gateways, deployments, events, metrics. */
  capabilities?: Capabilities;
  emit: EmitEvent;
  logger: Logger;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  clock?: Clock;
  /** Start the cron scheduler (default true). */
  cron?: boolean;
}

/**
 * One engine replica: a BullMQ worker executing runs in the sandbox, a cron scheduler, a
 * listener for cancellations, and a heartbeat the API's /readyz reads.
 */
export async function startEngine(o: EngineOptions): Promise<Engine> {
  const id = `${process.pid}-${randomUUID().slice(0, 6)}`;
  const { stores, config, logger } = o;
  const log = logger.child({ component: 'engine', engineId: id });
  const executor = createRunExecutor({
    redis: stores.redis, keys: stores.keys, workflows: stores.workflows, runs: stores.runs, stats: stores.stats,
    sandbox: o.sandbox, emit: o.emit, logger: log, resultMaxBytes: config.engine.resultMaxBytes, queue: stores.queue,
    capabilities: { state: createStateCapability(stores.state), ...o.capabilities },
  });

  const cancelSub = o.connect();
  cancelSub.on('error', () => {});
  cancelSub.on('message', (_ch: string, msg: string) => {
    try {
      const { runId, reason } = JSON.parse(msg) as { runId: string; reason: string };
      if (executor.abort(runId, reason)) log.info({ runId, reason }, 'run cancel requested');
    } catch {
      /* not ours */
    }
  });
  await cancelSub.subscribe(stores.keys.runCancel);

  const workerConnection = o.connect();
  workerConnection.on('error', (err) => log.warn({ err: err.message }, 'worker redis connection error'));
  const worker: RunWorker = createRunWorker({
    connection: workerConnection,
    prefix: stores.keys.queuePrefix,
    concurrency: config.engine.concurrency,
    lockDurationMs: o.lockDurationMs ?? config.engine.jobLockMs,
    stalledIntervalMs: o.stalledIntervalMs ?? config.engine.jobLockMs,
    process: (job) => executor.execute(job),
    onError: (err) => log.error({ err }, 'queue worker error'),
  });

  const cron = createCronScheduler({
    redis: stores.redis, keys: stores.keys, workflows: stores.workflows, launcher: stores.launcher, logger: log,
    catchUp: config.engine.cronCatchUp, catchUpWindowMs: config.engine.cronCatchUpWindowMs, clock: o.clock,
  });
  if (o.cron !== false) await cron.start();

  const beat = async () => {
    const status = { id, pid: process.pid, healthy: worker.healthy(), active: executor.active(), at: new Date().toISOString() };
    await stores.redis.set(stores.keys.engine(id), JSON.stringify(status), 'PX', 10_000);
    await stores.redis.sadd(stores.keys.engines, id);
  };
  await worker.ready();
  await beat().catch(() => undefined);
  const heartbeat = setInterval(() => void beat().catch((err) => log.warn({ err: err.message }, 'engine heartbeat failed')), 2000);
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
        if ((await Promise.race([graceful.then(() => 'done' as const), timeout])) === 'timeout') {
          // Left to BullMQ's stalled-job recovery: another replica (or the next start) resumes them as a new attempt.
          log.warn({ active: executor.active() }, 'shutdown grace period over; leaving unfinished runs to be resumed by another engine');
          await worker.close(true);
        }
        await stores.redis.multi().del(stores.keys.engine(id)).srem(stores.keys.engines, id).exec().catch(() => undefined);
        cancelSub.disconnect();
        // BullMQ leaves connections it was given open.
        workerConnection.disconnect();
        log.info('engine stopped');
      })();
      return stopping;
    },
  };
}
