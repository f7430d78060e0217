import { createEventStore } from '../adapters/events/index.ts';
import { createKvStore } from '../adapters/kv/index.ts';
import { createMetricsStore } from '../adapters/metrics/index.ts';
import { createPrometheusClient } from '../adapters/prometheus/client.ts';
import { createRunQueue } from '../adapters/queue/index.ts';
import { createRedisBackend, type RedisBackend } from '../adapters/redis/index.ts';
import { migrateKeys } from '../adapters/redis/legacy-layout.ts';
import { createSchedulerDriver } from '../adapters/scheduler/index.ts';
import { auditCapabilities } from '../engine/audit/audited-capabilities.ts';
import { notingEffects } from '../engine/audit/effects.ts';
import { createDeploymentsCapability } from '../engine/deployments/capability.ts';
import { createEventBus } from '../engine/events/bus.ts';
import { createEventsCapability } from '../engine/events/events-capability.ts';
import { createMetricsCapability } from '../engine/events/metrics-capability.ts';
import { createGatewaysCapability } from '../engine/gateways/capability.ts';
import { createGatewayService } from '../engine/gateways/service.ts';
import { createRunCanceller } from '../engine/runs/run-canceller.ts';
import { createRunLauncher } from '../engine/runs/run-launcher.ts';
import { createTriggerRecorder } from '../engine/triggers/trigger-recorder.ts';
import type { Logger } from '../engine/shared/logger.ts';
import type { Stores, System } from '../engine/system.ts';
import type { VeerConfig } from './config.ts';
import { stampingCausedHops } from '../engine/events/causation.ts';
import { createSecretService } from '../engine/connect/secret-service.ts';
import { createHttpCapability } from '../engine/connect/http-fetch.ts';
import { sealingNotifierStore } from '../engine/connect/sealed-notifier-store.ts';
import { createSecretsCapability } from '../engine/connect/secrets-capability.ts';
import { closeInOrder } from './shutdown.ts';

/** A System as the composition root built it: with its compiled config and the Redis backend, for the entry points. */
export interface BootedSystem extends System {
  settings: VeerConfig;
  redis: RedisBackend;
}

/**
 * The composition root: configuration → adapters → services. Picks each implementation
 * from the config (Redis for runs, workflows, state and coordination; BullMQ for the
 * queue; the configured event, metrics, scheduler and KV stores) and wires the services.
 */
export async function createSystem(config: VeerConfig, logger: Logger): Promise<BootedSystem> {
  const core = config.core;
  const prefix = core.redisPrefix;
  const backend = createRedisBackend({
    target: config.redis,
    prefix,
    runHistory: core.engine.runHistory,
    runLogMax: core.engine.runLogMax,
    auditMaxLen: core.audit.maxLen,
    logger,
  });
  const redis = backend.connections.command;
  await migrateKeys(redis, prefix, logger);
  const queue = createRunQueue({
    connection: redis,
    connect: backend.connections.blocking,
    prefix: backend.keys.queuePrefix,
    onError: (err) => logger.warn({ err: err.message }, 'run queue: redis error'),
  });
  const { workflows, runs, state, stats, coordination, triggers } = backend;
  const canceller = createRunCanceller({ runs, queue, coordination });
  const eventStore = await createEventStore(config.events, { redis, prefix });
  const bus = createEventBus({ events: eventStore, logger });
  // Every trigger outcome is recorded in one place; skips are also Veer events.
  const recorder = createTriggerRecorder({ history: backend.triggerHistory, emit: bus.emitter, logger });
  const launcher = createRunLauncher({ workflows, runs, queue, canceller, logger, recorder, engines: coordination.engines, signals: backend.signals });
  const stores: Stores = {
    workflows,
    runs,
    state,
    stats,
    queue,
    coordination,
    triggers,
    launcher,
    canceller,
    quarantine: backend.quarantine,
    signals: backend.signals,
    triggerHistory: backend.triggerHistory,
    recorder,
  };

  // Change events also feed the before → after of the audit entry of the call that caused them.
  // Change events note their effects for the audit and carry the hops of the run that caused them.
  const changeEmitter = notingEffects(stampingCausedHops(bus.emitter));
  const metrics = await createMetricsStore(config.metrics, { redis, prefix, elasticsearch: config.events.elasticsearch });
  const scheduler = await createSchedulerDriver(config.scheduler, { redis, redisPrefix: prefix, logger: logger.child({ component: 'scheduler' }) });
  const kv = await createKvStore(config.kv, { logger: logger.child({ component: 'kv' }) });
  // ctx.metrics.prometheus answers PROMETHEUS.NOT_CONFIGURED without a URL.
  const prometheusUrl = config.prometheus.url;
  const gateways = createGatewayService({ kv, logger: logger.child({ component: 'gateways' }), emit: changeEmitter });

  const secrets = createSecretService({
    store: backend.secrets,
    key: config.connect.secrets.key,
    previousKey: config.connect.secrets.previousKey,
    logger: logger.child({ component: 'secrets' }),
  });
  // Key rotation: whatever the previous key sealed is re-sealed with the new one (idempotent; every process may do it).
  await secrets
    .rotate()
    .catch((err) => logger.warn({ err }, 'could not re-seal secrets with the new VEER_SECRETS_KEY; values sealed with the previous key still open'));

  const onClose: Array<() => Promise<void>> = [];
  return {
    settings: config,
    redis: backend,
    config: core,
    logger,
    stores,
    events: { store: eventStore, bus, heartbeatMs: config.events.sseHeartbeatMs },
    metrics,
    scheduler: { driver: scheduler },
    kv,
    gateways,
    emit: bus.emitter,
    audit: backend.audit,
    // Signing secrets are sealed at rest when VEER_SECRETS_KEY is set.
    notifiers: sealingNotifierStore(backend.notifiers, config.connect.secrets),
    secrets,
    webhooks: { alertmanagerToken: config.connect.alertmanagerToken, onceKeys: backend.onceKeys },
    sessions: backend.sessions,
    // Every script effect is recorded in the audit stream here, in one place.
    capabilities: auditCapabilities(
      {
        events: createEventsCapability(bus, { runs }),
        metrics: createMetricsCapability(metrics, prometheusUrl ? createPrometheusClient({ ...config.prometheus, url: prometheusUrl }) : undefined),
        deployments: createDeploymentsCapability({ scheduler, emit: changeEmitter }),
        gateways: createGatewaysCapability(gateways, { emit: changeEmitter }),
        secrets: createSecretsCapability(secrets),
        http: createHttpCapability(config.connect.http),
      },
      { audit: backend.audit, logger: logger.child({ component: 'audit' }) },
    ),
    onClose,
    async close() {
      for (const fn of onClose.reverse()) await fn().catch((err) => logger.warn({ err }, 'error during shutdown'));
      await closeInOrder(logger, [
        ['scheduler', () => scheduler.close()],
        ['KV store', () => kv.close()],
        ['event bus', () => bus.close()],
        ['event store', () => eventStore.close()],
        ['metrics store', () => metrics.close()],
        ['run queue', () => queue.close()],
        ['Redis', () => backend.close()],
      ]);
    },
  };
}
