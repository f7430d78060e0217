/**
 * `npm run engine`: one engine replica as its own process. Wiring lives in the composition
 * root (boot/); this entry point only compiles the config, builds the system and handles
 * signals.
 */
import { loadConfig } from '../boot/config.ts';
import { startEngineFor } from '../boot/engine.ts';
import { createLogger } from '../boot/logger.ts';
import { exitOnSignal } from '../boot/shutdown.ts';
import { createSystem } from '../boot/system.ts';

if (import.meta.main) {
  const config = loadConfig(process.env);
  const logger = createLogger({ level: config.core.logLevel, pretty: config.core.logPretty });
  const system = await createSystem(config, logger);
  // Handlers first: a SIGTERM that arrives while components start must still drain runs.
  exitOnSignal(
    logger,
    async () => {
      await started.catch(() => undefined);
      await system.close();
    },
    config.core.engine.shutdownGraceMs,
  );
  const started = (async () => {
    await system.redis.checkEvictionPolicy(logger);
    await startEngineFor(system, logger);
  })();
  await started;
}
