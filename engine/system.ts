import type { CoreConfig } from './config.ts';
import type { EmitEvent } from './domain/emit.ts';
import type { Capabilities } from './sandbox/capabilities.ts';
import { createStores, type Stores } from './stores.ts';
import type { Logger } from './shared/logger.ts';

/**
 * The adapters and services of one process, built from configuration. Entry points
 * (api/main.ts, engine/main.ts, deploy/local/start.ts) call this; nothing else reads
 * config or picks implementations.
 */
export interface System {
  config: CoreConfig;
  logger: Logger;
  stores: Stores;
  emit: EmitEvent;
  /** What scripts get besides `state`, `log` and `sleep`. */
  capabilities: Capabilities;
  /** Closers run in reverse order on shutdown. */
  onClose: Array<() => Promise<void>>;
  close(): Promise<void>;
}

export async function createSystem(config: CoreConfig, _env: Record<string, string | undefined>, logger: Logger): Promise<System> {
  const stores = createStores(config, logger);
  const onClose: Array<() => Promise<void>> = [];
  const system: System = {
    config,
    logger,
    stores,
    emit: async () => {},
    capabilities: {},
    onClose,
    async close() {
      for (const fn of onClose.reverse()) await fn().catch((err) => logger.warn({ err }, 'error during shutdown'));
      await stores.close();
    },
  };
  return system;
}
