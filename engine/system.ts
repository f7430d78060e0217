import type { Redis } from 'ioredis';
import { createEventStore, type EventStore } from '../adapters/events/index.ts';
import { createKvStore, loadKvConfigFor, type KvStore } from '../adapters/kv/index.ts';
import { loadEventsConfig, type EventsConfig } from '../adapters/events/config.ts';
import { createMetricsStore, type GatewayMetricsStore } from '../adapters/metrics/index.ts';
import { loadMetricsConfig } from '../adapters/metrics/config.ts';
import { createSchedulerDriver, loadSchedulerConfig, type SchedulerConfig, type SchedulerDriver } from '../adapters/scheduler/index.ts';
import type { CoreConfig } from './config.ts';
import { createDeploymentsCapability } from './deployments/capability.ts';
import { createGatewaysCapability } from './gateways/capability.ts';
import { createGatewayService, type GatewayService } from './gateways/service.ts';
import type { EmitEvent } from './domain/emit.ts';
import { createEventBus, type EventBus } from './events/bus.ts';
import { createEventsCapability } from './events/events-capability.ts';
import { createMetricsCapability } from './events/metrics-capability.ts';
import type { Capabilities } from './sandbox/capabilities.ts';
import { createStores, type Stores } from './stores.ts';
import type { Logger } from './shared/logger.ts';

/**
 * The adapters and services of one process, built from configuration. Entry points
 * (api/main.ts, engine/main.ts, deploy/local/start.ts) call this; nothing else reads
 * config or picks implementations.
 */
export interface System {
  config: CoreConfig;
  env: Record<string, string | undefined>;
  logger: Logger;
  stores: Stores;
  events: { config: EventsConfig; store: EventStore; bus: EventBus };
  metrics: GatewayMetricsStore;
  scheduler: { config: SchedulerConfig; driver: SchedulerDriver };
  kv: KvStore;
  gateways: GatewayService;
  /** The one path for Veer's own events (run lifecycle, gateway and deployment changes). Never throws. */
  emit: EmitEvent;
  /** What scripts get besides `state`, `log` and `sleep`. */
  capabilities: Capabilities;
  /** Closers run in reverse order on shutdown. */
  onClose: Array<() => Promise<void>>;
  close(): Promise<void>;
}

export async function createSystem(config: CoreConfig, env: Record<string, string | undefined>, logger: Logger): Promise<System> {
  const stores = createStores(config, logger);
  const redis: Redis = stores.redis;
  const prefix = config.redisPrefix;

  const eventsConfig = loadEventsConfig(env);
  const eventStore = createEventStore(eventsConfig, { redis, prefix });
  const bus = createEventBus({ events: eventStore, logger });
  const metrics = createMetricsStore(loadMetricsConfig(env), { redis, prefix, elasticsearch: eventsConfig.elasticsearch });
  const schedulerConfig = loadSchedulerConfig(env);
  const scheduler = createSchedulerDriver(schedulerConfig, { redis, redisPrefix: prefix, logger: logger.child({ component: 'scheduler' }) });

  const kv = createKvStore(loadKvConfigFor(env, config), { logger: logger.child({ component: 'kv' }) });
  const gateways = createGatewayService({ kv, logger: logger.child({ component: 'gateways' }), emit: bus.emitter });

  const onClose: Array<() => Promise<void>> = [];
  const system: System = {
    config,
    env,
    logger,
    stores,
    events: { config: eventsConfig, store: eventStore, bus },
    metrics,
    scheduler: { config: schedulerConfig, driver: scheduler },
    kv,
    gateways,
    emit: bus.emitter,
    capabilities: {
      events: createEventsCapability(bus),
      metrics: createMetricsCapability(metrics),
      deployments: createDeploymentsCapability({ scheduler, emit: bus.emitter }),
      gateways: createGatewaysCapability(gateways),
    },
    onClose,
    async close() {
      for (const fn of onClose.reverse()) await fn().catch((err) => logger.warn({ err }, 'error during shutdown'));
      await scheduler.close().catch(() => undefined);
      await kv.close().catch(() => undefined);
      await bus.close().catch(() => undefined);
      await stores.close();
    },
  };
  return system;
}
