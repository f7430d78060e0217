import { Redis } from 'ioredis';
import { loadEventsConfig } from '../events/config.ts';
import { createKvStore, loadKvConfigFor } from '../kv/index.ts';
import { createMetricsSink, createMetricsStore } from '../metrics/index.ts';
import { loadMetricsConfig } from '../metrics/config.ts';
import { createSchedulerDriver, loadSchedulerConfig, watchAllEndpoints } from '../scheduler/index.ts';
import { loadCoreConfig } from '../../engine/config.ts';
import { createLogger } from '../../boot/logger.ts';
import type { Logger } from '../../engine/shared/logger.ts';
import { createGatewayAgent, type GatewayAgent, type ResolveTargets } from './agent.ts';
import { loadGatewayAgentConfig } from './config.ts';
import { createSchedulerTargetResolver } from './deployment-targets.ts';
import { createHaproxyProcess } from './haproxy-process.ts';
import type { GatewayLogRecord } from './log-line.ts';
import { createLogReceiver, type LogReceiver } from './log-receiver.ts';

export interface RunGatewayAgentOptions {
  env: Record<string, string | undefined>;
  logger?: Logger;
  /** Traffic log consumer (events/metrics); without it logs are received and dropped. */
  onLogRecords?: (records: GatewayLogRecord[]) => void | Promise<void>;
  /** Resolver for `{ deployment, port }` targets (deployments area). */
  resolveTargets?: ResolveTargets;
}

/** Starts the agent as the entry point does; returns a stop function (what SIGTERM runs). */
export async function runGatewayAgent(o: RunGatewayAgentOptions): Promise<{ agent: GatewayAgent; stop: () => Promise<void> }> {
  const core = loadCoreConfig(o.env);
  const logger = o.logger ?? createLogger({ level: core.logLevel, pretty: core.logPretty });
  const config = loadGatewayAgentConfig(o.env);
  const kv = createKvStore(loadKvConfigFor(o.env, core), { logger });
  let receiver: LogReceiver | undefined;
  receiver = createLogReceiver({ port: config.logPort, logger, onLogRecords: o.onLogRecords ?? (() => {}) });
  const logPort = await receiver.start();
  const agent = createGatewayAgent({
    kv,
    logger,
    agentId: config.agentId,
    haproxy: createHaproxyProcess({ bin: config.haproxyBin, dir: config.dir, logger }),
    render: { dir: config.dir, bindAddress: config.bindAddress, statsPort: config.statsPort, logPort, hardStopAfter: config.hardStopAfter },
    resolveTargets: o.resolveTargets,
    heartbeatMs: config.heartbeatMs,
    drainTimeoutMs: config.drainTimeoutMs,
    stopHaproxy: config.stopHaproxy,
  });
  await agent.start();
  logger.info({ agentId: config.agentId, dir: config.dir, kv: kv.kind, statsPort: config.statsPort, logPort }, 'gateway agent started');
  return {
    agent,
    stop: async () => {
      await agent.close();
      await receiver?.stop();
      await kv.close();
    },
  };
}

/**
 * The agent as its own process (`npm run gateway-agent`) or inside `npm start`: traffic log
 * lines feed the gateway metrics store, and `{ deployment, port }` targets follow the
 * scheduler's ready endpoints (polled every 500 ms, well inside the local drain time).
 */
export async function startGatewayAgentProcess(env: Record<string, string | undefined>, logger: Logger): Promise<{ agent: GatewayAgent; stop: () => Promise<void> }> {
  const core = loadCoreConfig(env);
  const redis = new Redis(core.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'gateway agent: redis connection error'));
  const metrics = createMetricsStore(loadMetricsConfig(env), { redis, prefix: core.redisPrefix, elasticsearch: loadEventsConfig(env).elasticsearch });
  const sink = createMetricsSink<GatewayLogRecord>(metrics, { logger });
  const scheduler = createSchedulerDriver(loadSchedulerConfig(env), { redis, redisPrefix: core.redisPrefix, logger });
  const { agent, stop } = await runGatewayAgent({ env, logger, onLogRecords: sink, resolveTargets: createSchedulerTargetResolver(scheduler) });
  const abort = new AbortController();
  const watching = watchAllEndpoints(scheduler, () => agent.refresh(), { intervalMs: 500, signal: abort.signal, onError: (err) => logger.debug({ err }, 'endpoint poll failed') });
  return {
    agent,
    stop: async () => {
      abort.abort();
      await watching;
      await stop();
      await sink.close();
      await scheduler.close();
      redis.disconnect();
    },
  };
}

if (import.meta.main) {
  const logger = createLogger({ level: process.env.VEER_LOG_LEVEL ?? 'info' });
  try {
    const { stop } = await startGatewayAgentProcess(process.env, logger);
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
