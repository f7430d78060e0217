import { createMarathonDriver } from '../../adapters/scheduler/marathon.ts';
import { schedulerContract } from './scheduler.contract.ts';
import { startMarathonDouble } from '../doubles/marathon.ts';

schedulerContract('marathon (protocol double, fetch)', async () => {
  const api = await startMarathonDouble({ tokens: { 'dcos-token': 'admin' } });
  api.addApp({ id: '/shop/web', instances: 2, labels: { team: 'shop' } });
  const driver = createMarathonDriver({ url: api.url, token: 'dcos-token', group: '/shop', pollIntervalMs: 20 });
  return { driver, deployment: 'web', close: () => api.close() };
});

// Against a real Marathon: MARATHON_URL (+ MARATHON_TOKEN on DC/OS) and an app
// `<VEER_MARATHON_GROUP>/<VEER_CONTRACT_DEPLOYMENT>` (default '/veer-contract') with one port.
if (process.env.MARATHON_URL) {
  schedulerContract(
    'marathon (real, MARATHON_URL)',
    async () => ({
      driver: createMarathonDriver({ url: process.env.MARATHON_URL!, token: process.env.MARATHON_TOKEN, group: process.env.VEER_MARATHON_GROUP ?? '/' }),
      deployment: process.env.VEER_CONTRACT_DEPLOYMENT ?? 'veer-contract',
      close: async () => {},
    }),
    { readyTimeoutMs: 300_000 },
  );
}
