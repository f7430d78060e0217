/**
 * `npm start`: the whole system on one machine with embedded defaults — Redis (started
 * if needed), the API, one engine replica (with the local scheduler's supervisor) and,
 * when HAProxy is installed, a gateway agent.
 */
import { spawnSync } from 'node:child_process';
import { startGatewayAgentProcess } from '../../adapters/gateway-agent/main.ts';
import { startApi } from '../../api/main.ts';
import { loadCoreConfig } from '../../engine/config.ts';
import { startEngineFor } from '../../engine/main.ts';
import { warnOnEvictionPolicy } from '../../engine/redis-checks.ts';
import { createLogger } from '../../boot/logger.ts';
import { createSystem } from '../../engine/system.ts';
import { ensureRedis } from './ensure-redis.ts';

const config = loadCoreConfig(process.env);
// Pretty logs for a person at a terminal unless VEER_LOG_PRETTY says otherwise.
const logger = createLogger({ level: config.logLevel, pretty: process.env.VEER_LOG_PRETTY ? config.logPretty : process.stdout.isTTY === true });
let redisProc: Awaited<ReturnType<typeof ensureRedis>>;
try {
  redisProc = await ensureRedis(config.redisUrl, config.dataDir, logger, config.redisAutostart);
} catch (err) {
  logger.fatal((err as Error).message);
  process.exit(1);
}
const system = await createSystem(config, process.env, logger);
let api: Awaited<ReturnType<typeof startApi>> | undefined;
let agent: Awaited<ReturnType<typeof startGatewayAgentProcess>> | undefined;
let stopping = false;
// Registered before anything starts, so Ctrl-C during start-up still shuts down cleanly.
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down');
  await starting.catch(() => undefined);
  await api?.close();
  await agent?.stop();
  await system.close();
  await redisProc?.stop();
  process.exit(0);
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

const starting = (async () => {
await warnOnEvictionPolicy(system.stores.redis, logger);
await startEngineFor(system, logger);
api = await startApi(system, logger);

const env = process.env;
const haproxyBin = env.VEER_HAPROXY_BIN || 'haproxy';
const haveHaproxy = spawnSync(haproxyBin, ['-v'], { stdio: 'ignore' }).status === 0;
if (config.startGatewayAgent === 'true' || (config.startGatewayAgent === 'auto' && haveHaproxy)) {
  agent = await startGatewayAgentProcess(env, logger.child({ component: 'gateway-agent' }));
} else if (config.startGatewayAgent === 'auto') {
  logger.warn(`HAProxy (${haproxyBin}) is not installed: gateways are stored but no traffic is routed. Install it (Debian/Ubuntu: sudo apt-get install -y haproxy; macOS: brew install haproxy) and restart.`);
}
logger.info(`Veer is up: API on http://127.0.0.1:${api.port}/api/v1 — try curl -s http://127.0.0.1:${api.port}/readyz`);
})();
await starting;
