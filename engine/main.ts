import { loadCoreConfig } from './config.ts';
import { startEngine, type Engine } from './engine-runtime.ts';
import { warnOnEvictionPolicy } from './redis-checks.ts';
import { createIsolatedSandbox } from './sandbox/isolated-host.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import { createSystem, type System } from './system.ts';

/** Starts an engine replica (worker, sandboxes, cron) for a system. */
export async function startEngineFor(system: System, logger: Logger): Promise<Engine> {
  const { config } = system;
  const sandbox = createIsolatedSandbox({ processes: config.engine.sandboxProcesses, runsPerProcess: Math.max(1, Math.ceil(config.engine.concurrency / config.engine.sandboxProcesses)), logger: logger.child({ component: 'sandbox' }), maxLogEntries: config.engine.runLogMax });
  const engine = await startEngine({
    config, stores: system.stores, connect: system.stores.connect, sandbox, capabilities: system.capabilities, emit: system.emit, logger,
  });
  system.onClose.push(async () => {
    await engine.stop();
    await sandbox.close();
  });
  return engine;
}

if (import.meta.main) {
  const config = loadCoreConfig(process.env);
  const logger = createLogger({ level: config.logLevel, pretty: config.logPretty });
  const system = await createSystem(config, process.env, logger);
  await warnOnEvictionPolicy(system.stores.redis, logger);
  await startEngineFor(system, logger);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await system.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
