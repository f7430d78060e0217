import { z } from 'zod';
import { loadEventsConfig, type EventsConfig } from '../adapters/events/config.ts';
import { GatewayAgentEnvSchema } from '../adapters/gateway-agent/config.ts';
import { loadKvConfigFor, type KvConfig } from '../adapters/kv/config.ts';
import { loadRedisTarget } from '../adapters/redis/config.ts';
import type { RedisTarget } from '../adapters/redis/target.ts';
import { loadMetricsConfig, type MetricsConfig } from '../adapters/metrics/config.ts';
import { loadSchedulerConfig, type SchedulerConfig } from '../adapters/scheduler/config.ts';
import { loadCoreConfig, type CoreConfig } from '../engine/config.ts';
import { loadConnectConfig, type ConnectConfig } from '../engine/connect/config.ts';
import { loadPrometheusConfig, type PrometheusConfig } from '../adapters/prometheus/config.ts';
import { parseEnv, type Env } from '../engine/shared/env.ts';

/**
 * Every area's configuration, compiled once per process from the environment by the entry
 * point (api/main.ts, engine/main.ts, deploy/local/start.ts) and handed down; nothing else
 * reads the environment. The gateway agent's own section is compiled by its entry point
 * (adapters/gateway-agent/config.ts).
 */
export interface VeerConfig {
  core: CoreConfig;
  /** The installation's Redis: one server, a Cluster or a Sentinel-managed master. */
  redis: RedisTarget;
  kv: KvConfig;
  events: EventsConfig;
  metrics: MetricsConfig;
  scheduler: SchedulerConfig;
  /** Outbound HTTP, secrets, Alertmanager and notifiers. */
  connect: ConnectConfig;
  prometheus: PrometheusConfig;
  /** For `npm start`: the HAProxy binary whose presence decides whether an agent runs. */
  haproxyBin: string;
}

export function loadConfig(env: Env): VeerConfig {
  const core = loadCoreConfig(env);
  const redis = loadRedisTarget(env, core.redisUrl);
  return {
    core,
    redis,
    kv: loadKvConfigFor(env, core, redis),
    events: loadEventsConfig(env),
    metrics: loadMetricsConfig(env),
    scheduler: loadSchedulerConfig(env),
    connect: loadConnectConfig(env),
    prometheus: loadPrometheusConfig(env),
    haproxyBin: parseEnv(z.object({ VEER_HAPROXY_BIN: GatewayAgentEnvSchema.shape.VEER_HAPROXY_BIN }), env).VEER_HAPROXY_BIN,
  };
}
