import { createRedisKvStore } from '../../adapters/kv/redis.ts';
import { startRedis } from '../helpers/redis-server.ts';
import { freePort } from '../helpers/free-port.ts';
import { runKvContract } from './kv.contract.ts';

runKvContract('redis', async () => {
  const redis = await startRedis();
  return {
    open: async (prefix) => createRedisKvStore({ url: redis.url, target: redis.target, prefix, reapIntervalMs: 100 }),
    openUnreachable: async () => createRedisKvStore({ url: `redis://127.0.0.1:${await freePort()}`, timeoutMs: 500 }),
    stop: () => redis.stop(),
  };
});
