import { createMemoryScheduler } from '../deployments/memory-scheduler.ts';
import { schedulerContract } from './scheduler.contract.ts';

/**
 * The in-memory double the capability and route tests use, held to the same contract as the
 * real drivers. Its rollouts take `rolloutMs` here (instant by default) so that waitReady's
 * timeout and signal have a rollout to interrupt, and each instance gets an endpoint.
 */
schedulerContract('memory (test double)', async () => ({
  driver: createMemoryScheduler([{ name: 'web', desiredInstances: 2, readyInstances: 2, labels: { team: 'shop' } }], {
    rolloutMs: 50,
    endpointPerInstance: { basePort: 9100 },
  }),
  deployment: 'web',
  close: async () => {},
}));
