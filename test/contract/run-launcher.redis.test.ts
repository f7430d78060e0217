import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { runRunLauncherContract } from './run-launcher.contract.ts';

/** The real launcher on a private redis-server, each `create` a fresh system (own key prefix) without an engine, so runs stay queued. */
runRunLauncherContract('redis (the system launcher)', async () => {
  const systems: TestSystem[] = [];
  return {
    async create(workflows) {
      const first = systems[0];
      const t = await startTestSystem({ engine: false, ...(first ? { redis: first.redis } : {}) });
      systems.push(t);
      for (const name of workflows) {
        const res = await t.call('PUT', `/api/v1/workflows/${name}`, { script: 'export default async () => 1;', overlap: 'allow' });
        if (res.status >= 300) throw new Error(`PUT workflow ${name}: ${res.status} ${JSON.stringify(res.body)}`);
      }
      return t.system.stores.launcher;
    },
    async teardown() {
      // The first system owns the redis-server the others share: stop it last.
      for (const t of systems.slice(1)) await t.stop();
      await systems[0]?.stop();
    },
  };
});
