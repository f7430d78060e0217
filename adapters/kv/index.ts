import type { Logger } from '../../engine/shared/logger.ts';
import type { KvConfig } from './config.ts';
import { createConsulKvStore } from './consul.ts';
import { createEtcdKvStore } from './etcd.ts';
import type { KvStore } from '../../engine/ports/kv-store.ts';
import { createRedisKvStore } from './redis.ts';
import { createZookeeperKvStore } from './zookeeper.ts';

export type { KvConfig } from './config.ts';
export { loadKvConfig, loadKvConfigFor } from './config.ts';
export type { KvEntry, KvPutOptions, KvStore, KvWatch, KvWatchEvent, KvWatchOptions } from '../../engine/ports/kv-store.ts';
export { createRedisKvStore } from './redis.ts';

/**
 * Maps VEER_KV to its adapter. Entry points call:
 *   const kv = createKvStore(loadKvConfig(process.env, core.redisUrl), { logger });
 * Clients connect lazily, on the first operation.
 */
export function createKvStore(config: KvConfig, deps: { logger?: Logger } = {}): KvStore {
  const common = { url: config.url, prefix: config.prefix, timeoutMs: config.timeoutMs, logger: deps.logger };
  switch (config.kind) {
    case 'redis':
      return createRedisKvStore(common);
    case 'etcd':
      return createEtcdKvStore({ ...common, auth: config.auth });
    case 'consul':
      return createConsulKvStore({ ...common, token: config.token });
    case 'zookeeper':
      return createZookeeperKvStore(common);
  }
}
