import type { SchedulerDriver } from '../../engine/ports/scheduler.ts';
import { createKubernetesDriver } from './kubernetes.ts';

/**
 * Rancher 2.x: the Kubernetes driver pointed at Rancher's authenticating proxy for one
 * downstream cluster, `<rancher>/k8s/clusters/<clusterId>`, with a Rancher API token as the
 * bearer token. Everything else (Deployments, scale, EndpointSlices) is the Kubernetes driver.
 */
export interface RancherDriverOptions {
  url: string;
  token: string;
  clusterId: string;
  namespace: string;
  /** For Rancher servers with self-signed certificates; default false. */
  insecureSkipTlsVerify?: boolean;
  caData?: string;
  pollIntervalMs?: number;
}

export function createRancherDriver(options: RancherDriverOptions): SchedulerDriver {
  const server = `${options.url.replace(/\/+$/, '')}/k8s/clusters/${encodeURIComponent(options.clusterId)}`;
  return createKubernetesDriver({
    kind: 'rancher',
    namespace: options.namespace,
    pollIntervalMs: options.pollIntervalMs,
    connection: { type: 'options', server, token: options.token, skipTLSVerify: options.insecureSkipTlsVerify, caData: options.caData },
    hints: {
      forbidden: `check VEER_RANCHER_TOKEN and that its user may get/patch deployments and deployments/scale and list endpointslices in namespace '${options.namespace}' of cluster '${options.clusterId}'`,
      unavailable: `check VEER_RANCHER_URL (now ${options.url}) and VEER_RANCHER_CLUSTER (now '${options.clusterId}')`,
    },
  });
}
