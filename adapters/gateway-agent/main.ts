import { createEtcdKvStore } from '../kv/etcd.ts';
import { loadKvConfig, type KvConfig } from '../kv/config.ts';
import type { KvStore } from '../kv/port.ts';
import { createRedisKvStore } from '../kv/redis.ts';
import { createZookeeperKvStore } from '../kv/zookeeper.ts';
import { loadCoreConfig } from '../../engine/config.ts';
import { VeerError } from '../../engine/shared/errors.ts';
import { createLogger, type Logger } from '../../engine/shared/logger.ts';
import { createGatewayAgent, type GatewayAgent, type ResolveTargets } from './agent.ts';
import { loadGatewayAgentConfig } from './config.ts';
import { createHaproxyProcess } from './haproxy-process.ts';
import type { GatewayLogRecord } from './log-line.ts';
import { createLogReceiver, type LogReceiver } from './log-receiver.ts';

/** Until adapters/kv/index.ts maps every VEER_KV value, the agent opens the stores it knows. */
async function openKvStore(c: KvConfig, logger: Logger): Promise<KvStore> {
  if (c.kind === 'redis') return createRedisKvStore({ url: c.url, prefix: c.prefix, timeoutMs: c.timeoutMs, logger });
  if (c.kind === 'etcd') return createEtcdKvStore({ url: c.url, prefix: c.prefix, timeoutMs: c.timeoutMs, auth: c.auth, logger });
  if (c.kind === 'zookeeper') return createZookeeperKvStore({ url: c.url, prefix: c.prefix, timeoutMs: c.timeoutMs, logger });
  throw new VeerError('CONFIG', `VEER_KV=${c.kind} is not wired into the gateway agent yet; use redis, etcd or zookeeper`);
}

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
  const kv = await openKvStore(loadKvConfig(o.env, core.redisUrl), logger);
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

if (import.meta.main) {
  const logger = createLogger({ level: process.env.VEER_LOG_LEVEL ?? 'info' });
  try {
    const { stop } = await runGatewayAgent({ env: process.env, logger });
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
