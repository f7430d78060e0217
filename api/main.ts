import { loadCoreConfig } from '../engine/config.ts';
import { warnOnEvictionPolicy } from '../engine/redis-checks.ts';
import { createLogger } from '../boot/logger.ts';
import type { Logger } from '../engine/shared/logger.ts';
import { createSystem, type System } from '../engine/system.ts';
import { createApp } from './app.ts';
import { createRouters } from './routers.ts';
import { listen } from './server.ts';

/** Starts the HTTP API for a system; returns a function that stops it. */
export async function startApi(system: System, logger: Logger): Promise<{ port: number; close: () => Promise<void> }> {
  const { routers, rootRouters } = createRouters(system);
  const app = createApp({ logger: logger.child({ component: 'api' }), tokens: system.config.api.tokens, routers, rootRouters });
  return listen(app, system.config, logger.child({ component: 'api' }));
}

if (import.meta.main) {
  const config = loadCoreConfig(process.env);
  const logger = createLogger({ level: config.logLevel, pretty: config.logPretty });
  const system = await createSystem(config, process.env, logger);
  let api: { close: () => Promise<void> } | undefined;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await api?.close();
    await system.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await warnOnEvictionPolicy(system.stores.redis, logger);
  api = await startApi(system, logger);
}
