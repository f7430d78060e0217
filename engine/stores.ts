import { Redis } from 'ioredis';
import type { CoreConfig } from './config.ts';
import { createRunQueue, type RunQueue } from './queue/run-queue.ts';
import { createRunCanceller, type RunCanceller } from './runs/run-canceller.ts';
import { createRunLauncher } from './runs/run-launcher.ts';
import type { RunLauncher } from './runs/launcher.ts';
import { createRunStats, type RunStats } from './runs/run-stats.ts';
import { createKeys, type Keys } from './store/keys.ts';
import { createRunStore, type RunStore } from './store/run-store.ts';
import { createStateStore, type StateStore } from './store/state-store.ts';
import { createWorkflowStore, type WorkflowStore } from './store/workflow-store.ts';
import type { Logger } from './shared/logger.ts';

/** Everything both the API and the engine keep in Redis, built once per process. */
export interface Stores {
  redis: Redis;
  keys: Keys;
  workflows: WorkflowStore;
  runs: RunStore;
  state: StateStore;
  stats: RunStats;
  queue: RunQueue;
  canceller: RunCanceller;
  launcher: RunLauncher;
  /** A new connection with the same settings (subscribers, blocking reads). */
  connect: () => Redis;
  close(): Promise<void>;
}

/** Connections for blocking reads, subscribers and BullMQ workers (which require maxRetriesPerRequest: null). */
export function redisConnector(url: string): () => Redis {
  return () => new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/**
 * The command connection: while Redis is down a command fails after a few reconnect
 * attempts (well under a second) instead of waiting forever, so the API answers 503.
 */
function commandConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 3, enableReadyCheck: true });
}

export function createStores(config: CoreConfig, logger: Logger): Stores {
  const connect = redisConnector(config.redisUrl);
  const redis = commandConnection(config.redisUrl);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const subscriber = () => {
    const c = connect();
    c.on('error', () => {});
    return c;
  };
  const keys = createKeys(config.redisPrefix);
  const workflows = createWorkflowStore({ redis, keys, subscriber });
  const runs = createRunStore({ redis, keys, history: config.engine.runHistory, logMax: config.engine.runLogMax });
  const state = createStateStore({ redis, keys });
  const stats = createRunStats({ redis, keys });
  const queue = createRunQueue({ connection: redis, prefix: keys.queuePrefix, onError: (err) => logger.warn({ err: err.message }, 'run queue: redis error') });
  const canceller = createRunCanceller({ redis, keys, runs, queue });
  const launcher = createRunLauncher({ redis, keys, workflows, runs, queue, canceller, logger });
  return {
    redis, keys, workflows, runs, state, stats, queue, canceller, launcher, connect,
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}
