import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../engine/shared/logger.ts';
import type { Deployment, DeploymentEndpoint, DeploymentStatus, SchedulerDriver } from '../../engine/ports/scheduler.ts';
import { conflict, forbidden, invalid, notFound, unavailable } from '../../engine/domain/deployments/errors.ts';
import { normaliseScale } from '../../engine/domain/deployments/scale-request.ts';
import { formatCpu, formatMemory } from '../../engine/domain/deployments/quantity.ts';
import { parseQuantity, quantityBytes } from './k8s-quantity.ts';
import { pollUntilReady } from './wait-ready.ts';

/**
 * Kubernetes driver: apps/v1 Deployments in one namespace.
 * - instances: the `scale` subresource (merge-patch of spec.replicas), so RBAC can grant
 *   `deployments/scale` without full deployment write access.
 * - cpu/memory: a json-patch of the container's `resources`, setting requests AND limits to
 *   the value. The container is the one named by the annotation `veer.io/container`, else
 *   the first one.
 * - endpoints: discovery.k8s.io/v1 EndpointSlices of the Service named by the annotation
 *   `veer.io/service`, else the Service with the deployment's own name
 *   (label selector `kubernetes.io/service-name=<service>`). Only the IPv4 slices, unless the
 *   Service has none (IPv6 single-stack): see `pickFamily`.
 * - resources are read in any quantity form (the API server canonicalises what it stores).
 */
export type KubeConnection =
  /** KUBECONFIG, then ~/.kube/config, then the in-cluster service account. */
  | { type: 'default'; context?: string }
  | { type: 'in-cluster' }
  /** Explicit server + bearer token (Rancher's cluster proxy, tests). */
  | { type: 'options'; server: string; token?: string; skipTLSVerify?: boolean; caData?: string };

export interface KubernetesDriverOptions {
  connection: KubeConnection;
  namespace: string;
  /** Name used in messages; 'rancher' when reached through Rancher. */
  kind?: string;
  /** Interval of waitReady's status reads; default 1000 ms. */
  pollIntervalMs?: number;
  /** What to check on 401/403 and on connection failures; defaults speak of service accounts and kubeconfigs. */
  hints?: { forbidden?: string; unavailable?: string };
  logger?: Logger;
}

export const ANNOTATION_CONTAINER = 'veer.io/container';
export const ANNOTATION_SERVICE = 'veer.io/service';

export function kubeConfigFor(connection: KubeConnection): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (connection.type === 'in-cluster') kc.loadFromCluster();
  else if (connection.type === 'default') {
    kc.loadFromDefault();
    if (connection.context) kc.setCurrentContext(connection.context);
  } else {
    kc.loadFromOptions({
      clusters: [{ name: 'veer', server: connection.server, skipTLSVerify: connection.skipTLSVerify ?? false, caData: connection.caData }],
      users: [{ name: 'veer', token: connection.token }],
      contexts: [{ name: 'veer', cluster: 'veer', user: 'veer' }],
      currentContext: 'veer',
    });
  }
  return kc;
}

export function createKubernetesDriver(options: KubernetesDriverOptions): SchedulerDriver {
  const kind = options.kind ?? 'kubernetes';
  const ns = options.namespace;
  const where = `in namespace '${ns}'`;
  const hints = {
    forbidden:
      options.hints?.forbidden ??
      `grant this service account get/list/patch on deployments and deployments/scale, and list on endpointslices (discovery.k8s.io) in namespace '${ns}'`,
    unavailable:
      options.hints?.unavailable ?? 'check the API server address and credentials in the kubeconfig (KUBECONFIG) or, in a cluster, the service account mount',
  };
  let clients: { apps: k8s.AppsV1Api; discovery: k8s.DiscoveryV1Api } | undefined;
  const api = () => {
    // Created lazily so a bad kubeconfig fails the first call with a scheduler error, not start-up.
    if (!clients) {
      try {
        const kc = kubeConfigFor(options.connection);
        clients = { apps: kc.makeApiClient(k8s.AppsV1Api), discovery: kc.makeApiClient(k8s.DiscoveryV1Api) };
      } catch (cause) {
        throw unavailable({ driver: kind, cause }, hints.unavailable);
      }
    }
    return clients;
  };

  const mapError = (err: unknown, name?: string): Error => {
    const status = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : undefined;
    const ctx = { driver: kind, deployment: name, where, cause: err };
    if (status === undefined) return unavailable(ctx, hints.unavailable);
    if (status === 401 || status === 403) return forbidden(ctx, status, hints.forbidden);
    if (status === 404) return notFound(ctx, `check the name and VEER_KUBE_NAMESPACE (now '${ns}')`);
    if (status === 409) return conflict(ctx, 'another client changed it at the same time; retry');
    if (status === 400 || status === 422) return invalid(kind, `the API server rejected the change to deployment '${name}': ${apiMessage(err)}`);
    return unavailable(ctx, `the API server answered ${status}; ${hints.unavailable}`);
  };
  const call = async <T>(name: string | undefined, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw mapError(err, name);
    }
  };

  const endpointsByService = async (service?: string): Promise<Map<string, DeploymentEndpoint[]>> => {
    const labelSelector = service ? `kubernetes.io/service-name=${service}` : 'kubernetes.io/service-name';
    const list = await api().discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector });
    const slicesBySvc = new Map<string, k8s.V1EndpointSlice[]>();
    for (const slice of list.items) {
      const svc = slice.metadata?.labels?.['kubernetes.io/service-name'];
      if (svc) slicesBySvc.set(svc, [...(slicesBySvc.get(svc) ?? []), slice]);
    }
    const out = new Map<string, DeploymentEndpoint[]>();
    for (const [svc, slices] of slicesBySvc) out.set(svc, pickFamily(slices).flatMap(sliceEndpoints));
    return out;
  };

  const get = async (name: string): Promise<Deployment> => {
    const d = await call(name, () => api().apps.readNamespacedDeployment({ name, namespace: ns }));
    const eps = await call(name, () => endpointsByService(serviceOf(d)));
    return toDeployment(d, eps.get(serviceOf(d)) ?? []);
  };

  return {
    kind,
    capabilities: { define: false, resources: true },
    async list() {
      const [list, eps] = await call(undefined, () => Promise.all([api().apps.listNamespacedDeployment({ namespace: ns }), endpointsByService()]));
      return list.items.map((d) => toDeployment(d, eps.get(serviceOf(d)) ?? []));
    },
    get,
    async scale(name, request) {
      const r = normaliseScale(kind, request, true);
      if (r.cpu !== undefined || r.memory !== undefined) {
        const d = await call(name, () => api().apps.readNamespacedDeployment({ name, namespace: ns }));
        const { index, container } = containerOf(d);
        const resources = structuredClone(container.resources ?? {});
        for (const part of ['requests', 'limits'] as const) {
          const rs = (resources[part] ??= {});
          if (r.cpu !== undefined) rs.cpu = formatCpu(r.cpu);
          if (r.memory !== undefined) rs.memory = formatMemory(r.memory);
        }
        const base = `/spec/template/spec/containers/${index}`;
        // `test` makes the patch fail instead of hitting another container if the list changed meanwhile.
        const body = [
          { op: 'test', path: `${base}/name`, value: container.name },
          { op: 'add', path: `${base}/resources`, value: resources },
        ];
        await call(name, () =>
          api().apps.patchNamespacedDeployment({ name, namespace: ns, body }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch)),
        );
      }
      if (r.instances !== undefined) {
        const replicas = r.instances;
        await call(name, () =>
          api().apps.patchNamespacedDeploymentScale(
            { name, namespace: ns, body: { spec: { replicas } } },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
          ),
        );
      }
      return get(name);
    },
    waitReady(name, o) {
      return pollUntilReady({ driver: kind, name, where, ...o, intervalMs: options.pollIntervalMs ?? 1000, read: () => get(name) });
    },
    async close() {},
  };
}

/**
 * The slices to take endpoints from. A dual-stack Service has an IPv4 and an IPv6 slice listing
 * the same pods, so taking both would count every instance twice (and weight it twice in a
 * gateway). IPv4 wins because the gateway agent writes each target as `host:port`, the HAProxy
 * address and server name at once, where a bare IPv4 address is unambiguous; an IPv6-only
 * Service still gets its IPv6 endpoints, with the bare address as `host`. FQDN slices
 * (deprecated, never made by the EndpointSlice controller) name no address to route to.
 */
function pickFamily(slices: k8s.V1EndpointSlice[]): k8s.V1EndpointSlice[] {
  const v4 = slices.filter((s) => s.addressType === 'IPv4');
  return v4.length ? v4 : slices.filter((s) => s.addressType === 'IPv6');
}

function sliceEndpoints(slice: k8s.V1EndpointSlice): DeploymentEndpoint[] {
  return (slice.endpoints ?? []).flatMap((ep) => {
    // Per the EndpointSlice API, an absent `ready` condition means ready.
    const ready = ep.conditions?.ready !== false && ep.conditions?.terminating !== true;
    return ep.addresses.flatMap((host) =>
      (slice.ports ?? []).flatMap((p) => (p.port === undefined ? [] : [{ host, port: p.port, ready, ...(p.name ? { name: p.name } : {}) }])),
    );
  });
}

function serviceOf(d: k8s.V1Deployment): string {
  return d.metadata?.annotations?.[ANNOTATION_SERVICE] ?? d.metadata?.name ?? '';
}

function containerOf(d: k8s.V1Deployment): { index: number; container: k8s.V1Container } {
  const containers = d.spec?.template?.spec?.containers ?? [];
  const wanted = d.metadata?.annotations?.[ANNOTATION_CONTAINER];
  const index = wanted ? containers.findIndex((c) => c.name === wanted) : 0;
  if (index < 0 || !containers[index]) {
    throw invalid(
      'kubernetes',
      `deployment '${d.metadata?.name}' has no container ${wanted ? `named '${wanted}' (annotation ${ANNOTATION_CONTAINER})` : 'at all'}`,
    );
  }
  return { index, container: containers[index] };
}

function statusOf(d: k8s.V1Deployment): DeploymentStatus {
  const desired = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const cond = (type: string) => s.conditions?.find((c) => c.type === type);
  if (cond('Progressing')?.status === 'False' || cond('ReplicaFailure')?.status === 'True') return 'degraded';
  if ((s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return 'progressing';
  const all = [s.updatedReplicas, s.replicas, s.readyReplicas, s.availableReplicas].every((n) => (n ?? 0) === desired);
  return all ? 'ready' : 'progressing';
}

function toDeployment(d: k8s.V1Deployment, endpoints: DeploymentEndpoint[]): Deployment {
  const containers = d.spec?.template?.spec?.containers ?? [];
  const wanted = d.metadata?.annotations?.[ANNOTATION_CONTAINER];
  const c = (wanted ? containers.find((x) => x.name === wanted) : containers[0]) ?? containers[0];
  const res = c?.resources;
  const cpuQ = res?.requests?.cpu ?? res?.limits?.cpu;
  const memQ = res?.requests?.memory ?? res?.limits?.memory;
  const cpu = cpuQ === undefined ? undefined : parseQuantity(cpuQ);
  const memory = memQ === undefined ? undefined : quantityBytes(memQ);
  return {
    name: d.metadata?.name ?? '',
    desiredInstances: d.spec?.replicas ?? 1,
    readyInstances: d.status?.readyReplicas ?? 0,
    ...(cpu !== undefined ? { cpu } : {}),
    ...(memory !== undefined ? { memory } : {}),
    ...(c?.image ? { image: c.image } : {}),
    ...(c?.command ? { command: [...c.command, ...(c.args ?? [])].join(' ') } : {}),
    labels: d.metadata?.labels ?? {},
    status: statusOf(d),
    endpoints,
  };
}

function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return String(JSON.parse(body).message ?? body);
    } catch {
      return body;
    }
  }
  return String((body as { message?: unknown })?.message ?? (err as Error).message);
}
