/**
 * `npm run engine`: one engine replica as its own process. Wiring lives in the composition
 * root (boot/); this entry point only compiles the config, builds the system and handles
 * signals.
 */
import { loadConfig } from '../boot/config.ts';
import { startEngineFor } from '../boot/engine.ts';
import { createLogger } from '../boot/logger.ts';
import { createSystem } from '../boot/system.ts';

if (import.meta.main) {
  const config = loadConfig(process.env);
  const logger = createLogger({ level: config.core.logLevel, pretty: config.core.logPretty });
  const system = await createSystem(config, logger);
  // Handlers first: a SIGTERM that arrives while components start must still drain runs.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await started.catch(() => undefined);
    await system.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const started = (async () => {
    await system.redis.checkEvictionPolicy(logger);
    await startEngineFor(system, logger);
  })();
  await started;
}
