import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createLocalDriver } from '../../adapters/scheduler/local/driver.ts';
import { createLocalSupervisor } from '../../adapters/scheduler/local/supervisor.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { startRedis } from '../helpers/redis-server.ts';
import { schedulerContract } from './scheduler.contract.ts';

const fixture = fileURLToPath(new URL('../scheduler/fixtures/http-instance.mjs', import.meta.url));

schedulerContract('local (real processes, real Redis)', async () => {
  const server = await startRedis();
  const redis = new Redis(server.url);
  const prefix = `t${randomUUID().slice(0, 8)}:scheduler`;
  const supervisor = createLocalSupervisor({
    redis,
    prefix,
    logger: silentLogger(),
    timings: { healthIntervalMs: 50, drainMs: 50, stopGraceMs: 2000, reconcileIntervalMs: 200 },
  });
  await supervisor.start();
  const driver = createLocalDriver({ redis, prefix, pollIntervalMs: 20 });
  await driver.define!('web', { command: process.execPath, args: [fixture], instances: 2, healthCheck: '/health', labels: { team: 'shop' } });
  return {
    driver,
    deployment: 'web',
    async close() {
      await supervisor.close();
      await driver.close();
      redis.disconnect();
      await server.stop();
    },
  };
});
