import type { Redis } from 'ioredis';
import type { RunQueue } from '../../engine/ports/run-queue.ts';
import { createBullmqRunQueue } from './bullmq.ts';

/**
 * The run queue of an installation: BullMQ on its Redis (the only implementation today; a
 * second one would be chosen here from config, like the other registries).
 */
export function createRunQueue(deps: { connection: Redis; connect: () => Redis; prefix: string; onError?: (err: Error) => void }): RunQueue {
  return createBullmqRunQueue(deps);
}
