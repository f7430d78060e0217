import { loadConfig, type VeerConfig } from '../../boot/config.ts';
import { createLogger } from '../../boot/logger.ts';
import type { Env } from '../../engine/shared/env.ts';
import type { Logger } from '../../engine/shared/logger.ts';
import { createKvStore } from '../kv/index.ts';
import { createMetricsSink, createMetricsStore } from '../metrics/index.ts';
import { createRedisConnections } from '../redis/connection.ts';
import { migrateKeys } from '../redis/legacy-layout.ts';
import { createSchedulerDriver, watchAllEndpoints } from '../scheduler/index.ts';
import { createGatewayAgent, type GatewayAgent, type ResolveTargets } from './agent.ts';
import { loadGatewayAgentConfig, type GatewayAgentConfig } from './config.ts';
import { createSchedulerTargetResolver } from './deployment-targets.ts';
import { createHaproxyProcess } from './haproxy-process.ts';
import { createLogBackfill, previousLogPort } from './log-backfill.ts';
import type { GatewayLogRecord } from './log-line.ts';
import { createLogReceiver } from './log-receiver.ts';
import { adminSocketPath } from './render.ts';
import { createRuntimeApi } from './runtime-api.ts';

/**
 * Everything the agent process is configured by: the installation's sections (core for
 * logging and Redis, kv, metrics, events' Elasticsearch settings, scheduler) as the
 * composition root compiles them, plus the agent's own section.
 */
export interface GatewayAgentProcessConfig extends VeerConfig {
  agent: GatewayAgentConfig;
}

/** Compiles the agent process's configuration from `env`, once; a bad value throws naming the variable. */
export function loadGatewayAgentProcessConfig(env: Env): GatewayAgentProcessConfig {
  return { ...loadConfig(env), agent: loadGatewayAgentConfig(env) };
}

export interface RunGatewayAgentOptions {
  config: Pick<GatewayAgentProcessConfig, 'kv' | 'agent'>;
  logger: Logger;
  /** Traffic log consumer (events/metrics); without it logs are received and dropped. */
  onLogRecords?: (records: GatewayLogRecord[]) => void | Promise<void>;
  /** Resolver for `{ deployment, port }` targets (deployments area). */
  resolveTargets?: ResolveTargets;
}

export interface RunningGatewayAgent {
  agent: GatewayAgent;
  /** What SIGTERM runs: the agent, then the log intake, then the connections, in that order. */
  stop: () => Promise<void>;
}

/** The agent with its KV store and its log intake (HAProxy's UDP log → `onLogRecords`). */
export async function runGatewayAgent(o: RunGatewayAgentOptions): Promise<RunningGatewayAgent> {
  const { agent: config } = o.config;
  const logger = o.logger;
  // `await`: the KV registry may load its vendor client lazily.
  const kv = await createKvStore(o.config.kv, { logger });
  const consume = o.onLogRecords ?? (() => {});
  const backfill = createLogBackfill({ dir: config.dir, logger });
  const receiverOn = (port: number) => createLogReceiver({ port, logger, onLogRecords: backfill.track(consume) });
  // With "any port", take the one a running HAProxy still sends to (if free), else any.
  const reuse = config.logPort === 0 ? previousLogPort(config.dir) : undefined;
  let receiver = receiverOn(reuse ?? config.logPort);
  const logPort = await receiver.start().catch(() => {
    receiver = receiverOn(config.logPort);
    return receiver.start();
  });
  const haproxy = createHaproxyProcess({ bin: config.haproxyBin, dir: config.dir, logger });
  const agent = createGatewayAgent({
    kv,
    logger,
    agentId: config.agentId,
    haproxy,
    render: {
      dir: config.dir,
      bindAddress: config.bindAddress,
      statsPort: config.statsPort,
      logPort,
      hardStopAfter: config.hardStopAfter,
      ...(config.prometheus ? { prometheus: config.prometheus } : {}),
    },
    resolveTargets: o.resolveTargets,
    heartbeatMs: config.heartbeatMs,
    drainTimeoutMs: config.drainTimeoutMs,
    stopHaproxy: config.stopHaproxy,
  });
  await agent.start();
  // A HAProxy that served on while no agent ran logged it to its ring only: hand that on too.
  await backfill
    .recover(createRuntimeApi(adminSocketPath(config.dir)), await haproxy.pid(), consume)
    .catch((err) => logger.warn({ err }, 'could not read back the traffic HAProxy served while the agent was down'));
  logger.info(
    { agentId: config.agentId, dir: config.dir, kv: kv.kind, statsPort: config.statsPort, logPort, exporter: agent.status().exporter },
    'gateway agent started',
  );
  return {
    agent,
    stop: async () => {
      await agent.close();
      await receiver.stop();
      await kv.close();
    },
  };
}

/**
 * The agent as its own process (`npm run gateway-agent`) or inside `npm start`: traffic log
 * lines feed the gateway metrics store, and `{ deployment, port }` targets follow the
 * scheduler's ready endpoints (polled every 500 ms, well inside the local drain time).
 */
export async function startGatewayAgentFor(config: GatewayAgentProcessConfig, logger: Logger): Promise<RunningGatewayAgent> {
  const connections = createRedisConnections(config.redis, logger);
  // Waits through Redis outages instead of failing: a failed endpoint read would leave routes
  // without servers, while a waiting one leaves HAProxy serving the last applied ones.
  const redis = connections.blocking();
  redis.on('error', (err) => logger.warn({ err: err.message }, 'gateway agent: redis connection error'));
  await migrateKeys(connections.command, config.core.redisPrefix, logger);
  const metrics = await createMetricsStore(config.metrics, { redis, prefix: config.core.redisPrefix, elasticsearch: config.events.elasticsearch });
  const sink = createMetricsSink<GatewayLogRecord>(metrics, { logger });
  const scheduler = await createSchedulerDriver(config.scheduler, { redis, redisPrefix: config.core.redisPrefix, logger });
  const { agent, stop } = await runGatewayAgent({ config, logger, onLogRecords: sink, resolveTargets: createSchedulerTargetResolver(scheduler) });
  const abort = new AbortController();
  const watching = watchAllEndpoints(scheduler, () => agent.refresh(), {
    intervalMs: 500,
    signal: abort.signal,
    onError: (err) => logger.debug({ err }, 'endpoint poll failed'),
  });
  return {
    agent,
    stop: async () => {
      abort.abort();
      await watching;
      await stop();
      await sink.close();
      await scheduler.close();
      await connections.close();
    },
  };
}

/** `startGatewayAgentFor` with the configuration compiled from `env` (what `npm start` and the tests hand in). */
export function startGatewayAgentProcess(env: Env, logger: Logger): Promise<RunningGatewayAgent> {
  return startGatewayAgentFor(loadGatewayAgentProcessConfig(env), logger);
}

if (import.meta.main) {
  let config: GatewayAgentProcessConfig;
  try {
    config = loadGatewayAgentProcessConfig(process.env);
  } catch (err) {
    // No configured logger yet: report with the defaults.
    createLogger().fatal({ err }, 'gateway agent failed to start: invalid configuration');
    process.exit(1);
  }
  const logger = createLogger({ level: config.core.logLevel, pretty: config.core.logPretty });
  try {
    const { stop } = await startGatewayAgentFor(config, logger);
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'gateway agent stopping');
      await stop();
      process.exit(0);
    };
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));
  } catch (err) {
    logger.fatal({ err }, 'gateway agent failed to start');
    process.exit(1);
  }
}
