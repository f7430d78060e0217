import { createDocumentSearch, createRemoteEventSource } from '../adapters/events/index.ts';
import { createSchedulerSupervisor } from '../adapters/scheduler/index.ts';
import { loadCoreConfig } from './config.ts';
import { startEngine, type Engine } from './engine-runtime.ts';
import { createElasticsearchQueryTriggers } from './events/es-query-trigger.ts';
import { createLeaderLock } from './events/leader-lock.ts';
import { createEventTriggerDispatcher } from './events/trigger-dispatcher.ts';
import { warnOnEvictionPolicy } from './redis-checks.ts';
import { createIsolatedSandbox } from './sandbox/isolated-host.ts';
import { createLogger } from '../boot/logger.ts';
import type { Logger } from './shared/logger.ts';
import { createSystem, type System } from './system.ts';

/**
 * Starts an engine replica for a system: the run worker with its sandbox pool, cron,
 * event and Elasticsearch triggers, remote event sources and (with the local scheduler)
 * the supervisor of local deployments. Everything is stopped by `system.close()`.
 */
export async function startEngineFor(system: System, logger: Logger): Promise<Engine> {
  const { config, stores } = system;
  const prefix = config.redisPrefix;
  const sandbox = createIsolatedSandbox({
    processes: config.engine.sandboxProcesses,
    runsPerProcess: Math.max(1, Math.ceil(config.engine.concurrency / config.engine.sandboxProcesses)),
    logger: logger.child({ component: 'sandbox' }),
    maxLogEntries: config.engine.runLogMax,
  });
  const engine = await startEngine({
    config, stores, connect: stores.connect, sandbox, capabilities: system.capabilities, emit: system.emit, logger,
  });

  const supervisor = createSchedulerSupervisor(system.scheduler.config, { redis: stores.redis, redisPrefix: prefix, logger: logger.child({ component: 'local-scheduler' }) });
  await supervisor?.start();

  const ec = system.events.config;
  const dispatcher = createEventTriggerDispatcher({
    redis: stores.redis, prefix, events: system.events.store, workflows: stores.workflows, launcher: stores.launcher, logger, refreshMs: ec.triggerRefreshMs,
  });
  await dispatcher.start();
  const search = createDocumentSearch(ec);
  const esTriggers = createElasticsearchQueryTriggers({
    redis: stores.redis, prefix, search, workflows: stores.workflows, launcher: stores.launcher, logger, ...ec.esTriggers,
  });
  await esTriggers.start();

  // Remote streams are followed by one replica only, or every replica would forward each event.
  const remoteLock = createLeaderLock(stores.redis, `${prefix}:events:remote:lock`, 10_000);
  const remotes = ec.remote.urls.map((url) => createRemoteEventSource({ url, token: ec.remote.token, emit: (e) => system.events.bus.emit(e), redis: stores.redis, prefix, logger }));
  let remotesRunning = false;
  const remoteTimer = remotes.length === 0 ? undefined : setInterval(() => void (async () => {
    const leader = await remoteLock.acquire().catch(() => false);
    if (leader && !remotesRunning) {
      remotesRunning = true;
      for (const r of remotes) await r.start();
    } else if (!leader && remotesRunning) {
      remotesRunning = false;
      for (const r of remotes) await r.stop();
    }
  })(), 3000);

  system.onClose.push(async () => {
    if (remoteTimer) clearInterval(remoteTimer);
    for (const r of remotes) await r.stop().catch(() => undefined);
    if (remotes.length) await remoteLock.release().catch(() => undefined);
    await esTriggers.stop();
    await search.close();
    await dispatcher.stop();
    await engine.stop();
    await sandbox.close();
    await supervisor?.close();
  });
  return engine;
}

if (import.meta.main) {
  const config = loadCoreConfig(process.env);
  const logger = createLogger({ level: config.logLevel, pretty: config.logPretty });
  const system = await createSystem(config, process.env, logger);
  // Handlers first: a SIGTERM that arrives while components start must still drain runs.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await started.catch(() => undefined);
    await system.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const started = (async () => {
    await warnOnEvictionPolicy(system.stores.redis, logger);
    await startEngineFor(system, logger);
  })();
  await started;
}
