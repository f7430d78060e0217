import { randomUUID } from 'node:crypto';
import { createRedisBackend } from '../../adapters/redis/index.ts';
import { WorkflowSpecSchema } from '../../engine/domain/workflow.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { startRedis } from '../helpers/redis-server.ts';
import { runSignalStoreContract } from './signal-store.contract.ts';

runSignalStoreContract('redis', async () => {
  const redis = await startRedis();
  const backend = createRedisBackend({ target: redis.target, prefix: `t${randomUUID().slice(0, 8)}`, runHistory: 10, runLogMax: 10, logger: silentLogger() });
  const spec = WorkflowSpecSchema.parse({ script: 'export default async () => 1;' });
  return {
    signals: backend.signals,
    createWorkflow: async (name) => void (await backend.workflows.put(name, spec, spec.script)),
    deleteWorkflow: async (name) => void (await backend.workflows.delete(name)),
    async stop() {
      await backend.close();
      await redis.stop();
    },
  };
});
