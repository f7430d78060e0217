import { randomUUID } from 'node:crypto';
import { createKubernetesDriver } from '../../adapters/scheduler/kubernetes.ts';
import { schedulerContract } from './scheduler.contract.ts';
import { startKubernetesDouble } from '../doubles/kubernetes.ts';

schedulerContract('kubernetes (protocol double, @kubernetes/client-node)', async () => {
  const api = await startKubernetesDouble({ tokens: { 'sa-token': 'admin' } });
  const namespace = `ns-${randomUUID().slice(0, 6)}`;
  api.model.addDeployment(namespace, { name: 'web', replicas: 2, cpu: '500m', memory: '256Mi', labels: { team: 'shop' } });
  const driver = createKubernetesDriver({
    connection: { type: 'options', server: api.url, token: 'sa-token', skipTLSVerify: true },
    namespace,
    pollIntervalMs: 20,
  });
  return { driver, deployment: 'web', close: () => api.close() };
});

// Against a real cluster: KUBECONFIG (current context) and a Deployment named
// VEER_CONTRACT_DEPLOYMENT (default 'veer-contract') in VEER_KUBE_NAMESPACE (default 'default'),
// with a Service of the same name; the suite scales it between 1 and 3 and sets cpu/memory.
if (process.env.KUBECONFIG) {
  schedulerContract(
    'kubernetes (real cluster from KUBECONFIG)',
    async () => ({
      driver: createKubernetesDriver({ connection: { type: 'default' }, namespace: process.env.VEER_KUBE_NAMESPACE ?? 'default', pollIntervalMs: 1000 }),
      deployment: process.env.VEER_CONTRACT_DEPLOYMENT ?? 'veer-contract',
      close: async () => {},
    }),
    { readyTimeoutMs: 180_000 },
  );
}
