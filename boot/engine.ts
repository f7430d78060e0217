import { createDocumentSearch, createRemoteEventSources } from '../adapters/events/index.ts';
import { createSchedulerSupervisor } from '../adapters/scheduler/index.ts';
import { startEngine, type Engine } from '../engine/engine-runtime.ts';
import { createElasticsearchQueryTriggers } from '../engine/events/es-query-trigger.ts';
import { createEventTriggerDispatcher } from '../engine/events/trigger-dispatcher.ts';
import { createNotifierWorker } from '../engine/connect/notifier-worker.ts';
import { createUsageStash } from '../engine/runs/usage-stash.ts';
import { withRunBudgets } from '../engine/sandbox/budgeted-sandbox.ts';
import { createIsolatedSandbox } from '../engine/sandbox/isolated-host.ts';
import { withQuarantine } from '../engine/sandbox/quarantine-guard.ts';
import type { Logger } from '../engine/shared/logger.ts';
import type { BootedSystem } from './system.ts';
import { closeInOrder } from './shutdown.ts';

/** Remote streams are followed by one replica only, or every replica would forward each event. */
const REMOTE_EVENTS_LEASE = 'events:remote';

/**
 * Starts an engine replica for a system: the run worker with its sandbox pool, cron,
 * event and Elasticsearch triggers, remote event sources and (with the local scheduler)
 * the supervisor of local deployments. Everything is stopped by `system.close()`.
 */
export async function startEngineFor(system: BootedSystem, logger: Logger): Promise<Engine> {
  const { config, stores, settings } = system;
  const sandbox = createIsolatedSandbox({
    processes: config.engine.sandboxProcesses,
    runsPerProcess: config.engine.sandbox.runsPerProcess,
    logger: logger.child({ component: 'sandbox' }),
    maxLogEntries: config.engine.runLogMax,
    childEnv: config.engine.sandboxEnv,
    childMemoryMb: config.engine.sandbox.childMemoryMb,
    recycleRuns: config.engine.sandbox.recycleRuns,
    recycleRssMb: config.engine.sandbox.recycleRssMb,
    unresponsiveMs: config.engine.sandbox.unresponsiveMs,
    abortGraceMs: config.engine.sandbox.killGraceMs,
  });
  // Every run gets its budgets (VEER_BUDGET_*); what it used is kept in its run record, written
  // with the attempt's outcome by the executor rather than in a write of its own.
  const usage = createUsageStash();
  const budgeted = withRunBudgets(sandbox, {
    limits: config.engine.budgets,
    recordUsage: usage.record,
    logger: logger.child({ component: 'sandbox' }),
  });
  // Outermost, so that a quarantined version's runs end before anything else is done for them.
  const guarded = withQuarantine(budgeted, {
    store: system.redis.quarantine,
    emit: system.emit,
    crashes: config.engine.sandbox.quarantineCrashes,
    windowMs: config.engine.sandbox.quarantineWindowMs,
    logger: logger.child({ component: 'quarantine' }),
  });
  const engine = await startEngine({
    config,
    stores,
    sandbox: guarded,
    capabilities: system.capabilities,
    // Dry runs plan with the same services the capabilities use, so they are refused where real runs would be.
    dryRun: { gateways: system.gateways, scheduler: system.scheduler.driver, events: system.events.bus },
    emit: system.emit,
    logger,
    usage,
  });

  const supervisor = createSchedulerSupervisor(settings.scheduler, {
    redis: system.redis.connections.command,
    redisPrefix: config.redisPrefix,
    logger: logger.child({ component: 'local-scheduler' }),
  });
  await supervisor?.start();

  const ec = settings.events;
  const triggerPorts = {
    coordination: stores.coordination,
    triggers: stores.triggers,
    workflows: stores.workflows,
    launcher: stores.launcher,
    recorder: stores.recorder,
    logger,
  };
  const dispatcher = createEventTriggerDispatcher({
    ...triggerPorts,
    events: system.events.store,
    refreshMs: ec.triggerRefreshMs,
    maxHops: config.engine.eventsMaxHops,
  });
  await dispatcher.start();
  // Events out as webhooks: one engine delivers, one loop per notifier.
  const notifiers = createNotifierWorker({
    coordination: stores.coordination,
    store: system.notifiers,
    events: system.events.store,
    config: settings.connect.notify,
    secrets: system.secrets,
    logger,
  });
  await notifiers.start();
  const search = createDocumentSearch(ec);
  const esTriggers = createElasticsearchQueryTriggers({ ...triggerPorts, search, ...ec.esTriggers });
  await esTriggers.start();

  const remotes = await createRemoteEventSources(ec, { emit: (e, origin) => system.events.bus.emit(e, origin), positions: stores.triggers.remote, logger });
  const following =
    remotes.length === 0
      ? undefined
      : stores.coordination.runAsLeader(REMOTE_EVENTS_LEASE, {
          ttlMs: 10_000,
          async work(signal) {
            for (const r of remotes) await r.start();
            await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
            for (const r of remotes) await r.stop();
          },
          onError: (err) => logger.warn({ err }, 'remote event sources: lease unavailable'),
        });

  system.onClose.push(() =>
    closeInOrder(logger, [
      [
        'remote event sources',
        async () => {
          await following?.stop();
          for (const r of remotes) await r.stop().catch(() => undefined);
        },
      ],
      ['Elasticsearch triggers', () => esTriggers.stop()],
      ['event search', () => search.close()],
      ['notifiers', () => notifiers.stop()],
      ['event dispatcher', () => dispatcher.stop()],
      // Draining runs takes up to the grace period, then the bounded forced close.
      ['engine', () => engine.stop(), config.engine.shutdownGraceMs + 3_000],
      ['sandbox', () => sandbox.close()],
      // Handing instances to a standby engine takes up to 2 reconcile intervals + 1 s (5 s).
      ['local supervisor', () => supervisor?.close(), 8_000],
    ]),
  );
  return engine;
}
