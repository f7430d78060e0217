import type { KvStore } from '../../engine/ports/kv-store.ts';
import type { Logger } from '../../engine/shared/logger.ts';
import type { KvConfig } from './config.ts';

export { loadKvConfig } from './config.ts';

/**
 * Maps VEER_KV to its adapter. Entry points call (after compiling the config once):
 *   const kv = await createKvStore(loadKvConfigFor(env, core), { logger });
 * Only the configured store's client library is imported; it connects on the first operation.
 */
export async function createKvStore(config: KvConfig, deps: { logger?: Logger } = {}): Promise<KvStore> {
  const common = { url: config.url, prefix: config.prefix, timeoutMs: config.timeoutMs, logger: deps.logger };
  switch (config.kind) {
    case 'redis':
      return (await import('./redis.ts')).createRedisKvStore({ ...common, ...(config.redis ? { target: config.redis } : {}) });
    case 'etcd':
      return (await import('./etcd.ts')).createEtcdKvStore({ ...common, auth: config.auth });
    case 'consul':
      return (await import('./consul.ts')).createConsulKvStore({ ...common, token: config.token });
    case 'zookeeper':
      return (await import('./zookeeper.ts')).createZookeeperKvStore(common);
  }
}
