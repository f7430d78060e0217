/**
 * `npm start`: the whole system on one machine with embedded defaults — Redis (started
 * if needed), the API, one engine replica and, when HAProxy is installed, a gateway agent.
 */
import { startApi } from '../../api/main.ts';
import { loadCoreConfig } from '../../engine/config.ts';
import { startEngineFor } from '../../engine/main.ts';
import { warnOnEvictionPolicy } from '../../engine/redis-checks.ts';
import { createLogger } from '../../engine/shared/logger.ts';
import { createSystem } from '../../engine/system.ts';
import { ensureRedis } from './ensure-redis.ts';

const config = loadCoreConfig(process.env);
const logger = createLogger({ level: config.logLevel, pretty: config.logPretty });
let redisProc: Awaited<ReturnType<typeof ensureRedis>>;
try {
  redisProc = await ensureRedis(config.redisUrl, config.dataDir, logger);
} catch (err) {
  logger.fatal((err as Error).message);
  process.exit(1);
}
const system = await createSystem(config, process.env, logger);
await warnOnEvictionPolicy(system.stores.redis, logger);
await startEngineFor(system, logger);
const api = await startApi(system, logger);
logger.info(`Veer is up. Try: curl -s http://127.0.0.1:${api.port}/readyz`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down');
  await api.close();
  await system.close();
  await redisProc?.stop();
  process.exit(0);
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
