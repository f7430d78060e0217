import type { Redis } from 'ioredis';
import type { SchedulerDriver } from '../../engine/ports/scheduler.ts';
import type { Logger } from '../../engine/shared/logger.ts';
import { createKeys } from '../redis/keys.ts';
import type { SchedulerConfig } from './config.ts';
import { createLocalDriver } from './local/driver.ts';
import { createLocalSupervisor, type LocalSupervisor } from './local/supervisor.ts';

export { watchAllEndpoints } from './endpoints.ts';

export interface SchedulerDeps {
  /** Needed by the local driver (desired/observed state). */
  redis?: Redis;
  /** Redis key prefix of the installation (VEER_REDIS_PREFIX); the scheduler uses `{<prefix>:scheduler}` (adapters/redis/keys.ts). */
  redisPrefix?: string;
  logger: Logger;
}

/**
 * Maps VEER_SCHEDULER to its driver. Used by the API and the engine alike. Remote drivers'
 * modules (the Kubernetes client above all) are imported only when configured.
 */
export async function createSchedulerDriver(config: SchedulerConfig, deps: SchedulerDeps): Promise<SchedulerDriver> {
  switch (config.kind) {
    case 'kubernetes':
      return (await import('./kubernetes.ts')).createKubernetesDriver({
        connection: config.auth === 'in-cluster' ? { type: 'in-cluster' } : { type: 'default', context: config.context },
        namespace: config.namespace,
        pollIntervalMs: config.pollIntervalMs,
        logger: deps.logger,
      });
    case 'marathon':
      return (await import('./marathon.ts')).createMarathonDriver({
        url: config.url,
        token: config.token,
        group: config.group,
        pollIntervalMs: config.pollIntervalMs,
      });
    case 'rancher':
      return (await import('./rancher.ts')).createRancherDriver(config);
    case 'local':
      if (!deps.redis) throw new Error('the local scheduler needs a Redis client (deps.redis)');
      return createLocalDriver({ redis: deps.redis, prefix: localPrefix(deps), pollIntervalMs: config.pollIntervalMs });
  }
}

/**
 * The process that runs local deployments: call once in the engine process (or the local
 * start command) when VEER_SCHEDULER=local, then `await supervisor.start()`; `close()` on
 * shutdown stops the instances. Returns undefined for other schedulers.
 */
export function createSchedulerSupervisor(
  config: SchedulerConfig,
  deps: SchedulerDeps & { redis: Redis; baseEnv?: Record<string, string> },
): LocalSupervisor | undefined {
  if (config.kind !== 'local') return undefined;
  return createLocalSupervisor({
    redis: deps.redis,
    prefix: localPrefix(deps),
    logger: deps.logger,
    timings: config.local,
    baseEnv: deps.baseEnv ?? config.baseEnv,
  });
}

function localPrefix(deps: SchedulerDeps): string {
  return createKeys(deps.redisPrefix ?? 'veer').scheduler;
}
