import { createRancherDriver } from '../../adapters/scheduler/rancher.ts';
import { schedulerContract } from './scheduler.contract.ts';
import { startRancherDouble } from '../doubles/rancher.ts';

schedulerContract('rancher (protocol double of /k8s/clusters/<id>, @kubernetes/client-node)', async () => {
  const api = await startRancherDouble({ clusterId: 'c-m-abc12', tokens: { 'token-xyz:secret': 'admin' } });
  api.model.addDeployment('shop', { name: 'web', replicas: 2, cpu: '250m', labels: { team: 'shop' } });
  const driver = createRancherDriver({
    url: api.url,
    token: 'token-xyz:secret',
    clusterId: 'c-m-abc12',
    namespace: 'shop',
    insecureSkipTlsVerify: true,
    pollIntervalMs: 20,
  });
  return { driver, deployment: 'web', close: () => api.close() };
});

// Against a real Rancher: RANCHER_URL, RANCHER_TOKEN, RANCHER_CLUSTER and a Deployment named
// VEER_CONTRACT_DEPLOYMENT (default 'veer-contract') with a same-named Service in VEER_KUBE_NAMESPACE.
if (process.env.RANCHER_URL) {
  schedulerContract(
    'rancher (real, RANCHER_URL)',
    async () => ({
      driver: createRancherDriver({
        url: process.env.RANCHER_URL!,
        token: process.env.RANCHER_TOKEN ?? '',
        clusterId: process.env.RANCHER_CLUSTER ?? 'local',
        namespace: process.env.VEER_KUBE_NAMESPACE ?? 'default',
      }),
      deployment: process.env.VEER_CONTRACT_DEPLOYMENT ?? 'veer-contract',
      close: async () => {},
    }),
    { readyTimeoutMs: 180_000 },
  );
}
