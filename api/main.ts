import { loadConfig } from '../boot/config.ts';
import { createLogger } from '../boot/logger.ts';
import { exitOnSignal } from '../boot/shutdown.ts';
import { createSystem } from '../boot/system.ts';
import type { Logger } from '../engine/shared/logger.ts';
import type { System } from '../engine/system.ts';
import { createApp } from './app.ts';
import { createRouters } from './routers.ts';
import { listen } from './server.ts';

/** Starts the HTTP API for a system; returns a function that stops it. */
export async function startApi(system: System, logger: Logger): Promise<{ port: number; close: () => Promise<void> }> {
  const { routers, rootRouters, routeTokens } = createRouters(system);
  const app = createApp({
    logger: logger.child({ component: 'api' }),
    tokens: system.config.api.tokens,
    routeTokens,
    routers,
    rootRouters,
    sessions: { store: system.sessions, ttlMs: system.config.api.sessionTtlMs },
    ui: { dir: system.config.api.uiDir },
  });
  return listen(app, system.config, logger.child({ component: 'api' }));
}

if (import.meta.main) {
  const config = loadConfig(process.env);
  const logger = createLogger({ level: config.core.logLevel, pretty: config.core.logPretty });
  const system = await createSystem(config, logger);
  let api: { close: () => Promise<void> } | undefined = undefined;
  exitOnSignal(logger, async () => {
    await api?.close();
    await system.close();
  });
  await system.redis.checkEvictionPolicy(logger);
  api = await startApi(system, logger);
}
