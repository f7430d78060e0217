import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisStreamEventStore } from '../../adapters/events/redis-streams.ts';
import { runEventStoreContract } from './event-store.contract.ts';
import { startRedis } from '../helpers/redis-server.ts';

runEventStoreContract('redis streams', async () => {
  const server = await startRedis();
  const clients: Redis[] = [];
  return {
    async create() {
      const redis = server.client({ maxRetriesPerRequest: 1 });
      clients.push(redis);
      return createRedisStreamEventStore({ redis, prefix: `t-${randomUUID().slice(0, 8)}`, maxScan: 7 });
    },
    async teardown() {
      for (const c of clients) c.disconnect();
      await server.stop();
    },
  };
});
