import type { Redis } from 'ioredis';
import type { Logger } from '../../engine/shared/logger.ts';
import type { SchedulerConfig } from './config.ts';
import type { SchedulerDriver } from '../../engine/ports/scheduler.ts';
import { createKubernetesDriver } from './kubernetes.ts';
import { createLocalDriver } from './local/driver.ts';
import { createLocalSupervisor, type LocalSupervisor } from './local/supervisor.ts';
import { createMarathonDriver } from './marathon.ts';
import { createRancherDriver } from './rancher.ts';

export type { SchedulerDriver, Deployment, DeploymentEndpoint, ScaleRequest } from '../../engine/ports/scheduler.ts';
export { loadSchedulerConfig, type SchedulerConfig } from './config.ts';
export { createTargetResolver, resolveEndpoints, watchAllEndpoints, watchEndpoints } from './endpoints.ts';

export interface SchedulerDeps {
  /** Needed by the local driver (desired/observed state). */
  redis?: Redis;
  /** Redis key prefix of the installation (VEER_REDIS_PREFIX); the scheduler uses `<prefix>:scheduler`. */
  redisPrefix?: string;
  logger: Logger;
}

/** Maps VEER_SCHEDULER to its driver. Used by the API and the engine alike. */
export function createSchedulerDriver(config: SchedulerConfig, deps: SchedulerDeps): SchedulerDriver {
  switch (config.kind) {
    case 'kubernetes':
      return createKubernetesDriver({
        connection: config.auth === 'in-cluster' ? { type: 'in-cluster' } : { type: 'default', context: config.context },
        namespace: config.namespace,
        pollIntervalMs: config.pollIntervalMs,
        logger: deps.logger,
      });
    case 'marathon':
      return createMarathonDriver({ url: config.url, token: config.token, group: config.group, pollIntervalMs: config.pollIntervalMs });
    case 'rancher':
      return createRancherDriver(config);
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
export function createSchedulerSupervisor(config: SchedulerConfig, deps: SchedulerDeps & { redis: Redis }): LocalSupervisor | undefined {
  if (config.kind !== 'local') return undefined;
  return createLocalSupervisor({ redis: deps.redis, prefix: localPrefix(deps), logger: deps.logger, timings: config.local });
}

function localPrefix(deps: SchedulerDeps): string {
  return `${deps.redisPrefix ?? 'veer'}:scheduler`;
}
