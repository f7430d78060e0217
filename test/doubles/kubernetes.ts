import { createHash } from 'node:crypto';
import { canonicalQuantity } from '../scheduler/k8s-canonical-quantity.ts';
import { startHttpDouble, type DoubleRequest, type DoubleResponse, type HttpDouble } from './http-double.ts';

/**
 * A protocol double of the parts of the Kubernetes API the scheduler driver uses, faithful
 * to the documented wire format so the real @kubernetes/client-node can drive it:
 *  - apps/v1 Deployments: GET list/item, PATCH (json-patch, merge-patch; strategic-merge is
 *    treated as merge-patch, enough for the fields used here), PUT
 *  - the `scale` subresource (autoscaling/v1 Scale): GET, PUT (409 on a stale
 *    resourceVersion), PATCH
 *  - discovery.k8s.io/v1 EndpointSlices: list with `labelSelector`; one slice per address family
 *    of the Service (`ipFamilies`), so a dual-stack Service has an IPv4 AND an IPv6 slice listing
 *    the same pods ("If you have a Service that is available via IPv4 and IPv6, there will be at
 *    least two EndpointSlice objects", https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/#address-types),
 *    and optionally a hand-made `FQDN` slice (deprecated type the controller never creates)
 *  - resource quantities stored in canonical form (`1024Mi` reads back `1Gi`, `0.5` as `500m`), as
 *    the API server re-serialises every `resource.Quantity` (see `canonicalQuantity`)
 *  - errors as `Status` objects; bearer tokens with 'admin' or 'read' roles (read → 403 on writes)
 * Rollouts progress one step per tick (start a pod, make a pod ready, or remove one), so a
 * scale is never ready instantly. Pod IPs are 127.x addresses; nothing connects to them.
 */
export interface DoubleDeploymentSeed {
  name: string;
  replicas?: number;
  image?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Extra containers after the main one (named 'main'). */
  sidecars?: string[];
  /** Service whose EndpointSlice lists the pods; default the deployment name; false: none. */
  service?: string | false;
  /** Start with every pod ready (default true). */
  ready?: boolean;
  /** The Service's `spec.ipFamilies`: one EndpointSlice per family (default ['IPv4']). */
  ipFamilies?: Array<'IPv4' | 'IPv6'>;
  /** Also list a user-managed `addressType: FQDN` slice for the Service. */
  fqdnSlice?: boolean;
}

export interface KubernetesModelOptions {
  /** token → role; absent: no authentication. */
  tokens?: Record<string, 'admin' | 'read'>;
  stepMs?: number;
}

interface Pod {
  name: string;
  hash: string;
  ready: boolean;
  ip: string;
  ip6: string;
}
interface Entry {
  obj: any;
  pods: Pod[];
  service: string | false;
  seq: number;
  ipFamilies: Array<'IPv4' | 'IPv6'>;
  fqdnSlice: boolean;
}

export interface KubernetesModel {
  handle(req: DoubleRequest): DoubleResponse;
  addDeployment(ns: string, seed: DoubleDeploymentSeed): void;
  deployment(ns: string, name: string): any;
  /** Makes the next ticks fail the rollout (Progressing=False / ProgressDeadlineExceeded). */
  stall(ns: string, name: string): void;
  stop(): void;
}

let rv = 1;
const nextRv = () => String(++rv);
const status = (code: number, reason: string, message: string): DoubleResponse => ({
  status: code,
  body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code },
});

export function createKubernetesModel(options: KubernetesModelOptions = {}): KubernetesModel {
  const store = new Map<string, Entry>();
  const stalled = new Set<string>();
  let seq = 0;
  const key = (ns: string, name: string) => `${ns}/${name}`;
  const templateHash = (obj: any) => createHash('sha1').update(JSON.stringify(obj.spec.template)).digest('hex').slice(0, 10);

  const refreshStatus = (e: Entry) => {
    const d = e.obj;
    const hash = templateHash(d);
    const updated = e.pods.filter((p) => p.hash === hash).length;
    const ready = e.pods.filter((p) => p.ready).length;
    const stuck = stalled.has(key(d.metadata.namespace, d.metadata.name));
    d.status = {
      ...d.status,
      replicas: e.pods.length,
      updatedReplicas: updated,
      readyReplicas: ready || undefined,
      availableReplicas: ready || undefined,
      unavailableReplicas: Math.max(0, d.spec.replicas - ready) || undefined,
      conditions: [
        { type: 'Available', status: ready >= d.spec.replicas ? 'True' : 'False', reason: 'MinimumReplicasAvailable' },
        stuck
          ? { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${d.metadata.name}" has timed out progressing.` }
          : { type: 'Progressing', status: 'True', reason: updated === d.spec.replicas ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated' },
      ],
    };
    if (d.status.readyReplicas === undefined) delete d.status.readyReplicas;
    if (d.status.availableReplicas === undefined) delete d.status.availableReplicas;
    if (d.status.unavailableReplicas === undefined) delete d.status.unavailableReplicas;
  };

  const step = (e: Entry) => {
    const d = e.obj;
    if (stalled.has(key(d.metadata.namespace, d.metadata.name))) return refreshStatus(e);
    if ((d.status.observedGeneration ?? 0) < d.metadata.generation) {
      d.status.observedGeneration = d.metadata.generation;
      return refreshStatus(e);
    }
    const hash = templateHash(d);
    const current = e.pods.filter((p) => p.hash === hash);
    const notReady = e.pods.find((p) => !p.ready);
    const old = e.pods.find((p) => p.hash !== hash);
    if (notReady) notReady.ready = true;
    else if (current.length < d.spec.replicas) e.pods.push(newPod(e, hash, false));
    else if (old) e.pods.splice(e.pods.indexOf(old), 1);
    else if (current.length > d.spec.replicas) e.pods.splice(e.pods.indexOf(current[current.length - 1]), 1);
    else return;
    d.metadata.resourceVersion = nextRv();
    refreshStatus(e);
  };

  let podSeq = 0;
  const newPod = (e: Entry, hash: string, ready: boolean): Pod => {
    podSeq++;
    const ip = `127.0.${e.seq % 250}.${(podSeq % 250) + 1}`;
    return { name: `${e.obj.metadata.name}-${hash.slice(0, 5)}-${podSeq}`, hash, ready, ip, ip6: `fd00:10:${e.seq.toString(16)}::${podSeq.toString(16)}` };
  };

  const timer = setInterval(() => {
    for (const e of store.values()) step(e);
  }, options.stepMs ?? 20);

  const changed = (e: Entry, specChanged: boolean) => {
    e.obj.metadata.resourceVersion = nextRv();
    if (specChanged) e.obj.metadata.generation++;
    refreshStatus(e);
  };

  const authorize = (req: DoubleRequest, resource: string, name: string, ns: string): DoubleResponse | undefined => {
    if (!options.tokens) return undefined;
    const auth = req.headers.authorization ?? '';
    const role = auth.startsWith('Bearer ') ? options.tokens[auth.slice(7)] : undefined;
    if (!role) return status(401, 'Unauthorized', 'Unauthorized');
    if (role === 'read' && req.method !== 'GET') {
      const verb = req.method === 'PUT' ? 'update' : req.method.toLowerCase();
      return status(
        403,
        'Forbidden',
        `${resource} "${name}" is forbidden: User "system:serviceaccount:${ns}:veer" cannot ${verb} resource "${resource}" in API group "apps" in the namespace "${ns}"`,
      );
    }
    return undefined;
  };

  const handle = (req: DoubleRequest): DoubleResponse => {
    let m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments(?:\/([^/]+)(\/scale)?)?$/.exec(req.path);
    if (m) {
      const [, ns, name, scale] = m;
      const denied = authorize(req, scale ? 'deployments/scale' : 'deployments', name ?? '', ns);
      if (denied) return denied;
      if (!name) {
        if (req.method !== 'GET') return status(405, 'MethodNotAllowed', 'method not allowed');
        const items = [...store.values()].filter((e) => e.obj.metadata.namespace === ns && matches(e.obj.metadata.labels, req.query.get('labelSelector')));
        return {
          status: 200,
          body: { kind: 'DeploymentList', apiVersion: 'apps/v1', metadata: { resourceVersion: String(rv) }, items: items.map((e) => e.obj) },
        };
      }
      const e = store.get(key(ns, name));
      if (!e) return status(404, 'NotFound', `deployments.apps "${name}" not found`);
      return scale ? scaleRoute(req, e) : deploymentRoute(req, e);
    }
    m = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices$/.exec(req.path);
    if (m && req.method === 'GET') {
      const ns = m[1];
      const denied = authorize(req, 'endpointslices', '', ns);
      if (denied) return denied;
      const items = [...store.values()]
        .filter((e) => e.obj.metadata.namespace === ns && e.service)
        .flatMap((e) => slicesOf(e))
        .filter((s) => matches(s.metadata.labels, req.query.get('labelSelector')));
      return { status: 200, body: { kind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1', metadata: { resourceVersion: String(rv) }, items } };
    }
    return status(404, 'NotFound', `the server could not find the requested resource (${req.method} ${req.path})`);
  };

  const deploymentRoute = (req: DoubleRequest, e: Entry): DoubleResponse => {
    if (req.method === 'GET') return { status: 200, body: e.obj };
    if (req.method === 'PATCH') {
      const before = JSON.stringify(e.obj.spec);
      const patched = applyPatch(req, e.obj);
      if ('status' in patched) return patched;
      const bad = canonicalResources(patched.value);
      if (bad) return status(400, 'BadRequest', bad);
      e.obj.spec = patched.value.spec;
      e.obj.metadata.labels = patched.value.metadata?.labels ?? e.obj.metadata.labels;
      changed(e, JSON.stringify(e.obj.spec) !== before);
      return { status: 200, body: e.obj };
    }
    return status(405, 'MethodNotAllowed', `${req.method} is not supported on deployments by this double`);
  };

  const scaleRoute = (req: DoubleRequest, e: Entry): DoubleResponse => {
    const d = e.obj;
    const asScale = () => ({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: d.metadata.name, namespace: d.metadata.namespace, resourceVersion: d.metadata.resourceVersion, uid: d.metadata.uid },
      spec: { replicas: d.spec.replicas },
      status: {
        replicas: d.status.replicas ?? 0,
        selector: Object.entries(d.spec.selector.matchLabels)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      },
    });
    if (req.method === 'GET') return { status: 200, body: asScale() };
    let replicas: unknown;
    if (req.method === 'PUT') {
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return status(415, 'UnsupportedMediaType', `unsupported media type ${req.headers['content-type']}`);
      const body = JSON.parse(req.body);
      const wanted = body.metadata?.resourceVersion;
      if (wanted && wanted !== d.metadata.resourceVersion) {
        return status(
          409,
          'Conflict',
          `Operation cannot be fulfilled on deployments.apps "${d.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        );
      }
      replicas = body.spec?.replicas;
    } else if (req.method === 'PATCH') {
      const patched = applyPatch(req, asScale());
      if ('status' in patched) return patched;
      replicas = patched.value.spec?.replicas;
    } else return status(405, 'MethodNotAllowed', `${req.method} is not supported on deployments/scale`);
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      return status(
        422,
        'Invalid',
        `Scale.autoscaling "${d.metadata.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
      );
    }
    const specChanged = replicas !== d.spec.replicas;
    d.spec.replicas = replicas;
    changed(e, specChanged);
    return { status: 200, body: asScale() };
  };

  const slicesOf = (e: Entry) => [...e.ipFamilies.map((family) => sliceOf(e, family)), ...(e.fqdnSlice ? [sliceOf(e, 'FQDN', 'hand-written')] : [])];
  const sliceOf = (e: Entry, addressType: 'IPv4' | 'IPv6' | 'FQDN', managedBy = 'endpointslice-controller.k8s.io') => ({
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    addressType,
    metadata: {
      name: `${e.service}-${addressType.toLowerCase()}${e.seq}`,
      namespace: e.obj.metadata.namespace,
      labels: { 'kubernetes.io/service-name': String(e.service), 'endpointslice.kubernetes.io/managed-by': managedBy },
    },
    endpoints: e.pods.map((p) => ({
      addresses: [addressType === 'IPv4' ? p.ip : addressType === 'IPv6' ? p.ip6 : `${p.name}.${e.service}.${e.obj.metadata.namespace}.svc.cluster.local`],
      conditions: { ready: p.ready, serving: p.ready, terminating: false },
      targetRef: { kind: 'Pod', name: p.name, namespace: e.obj.metadata.namespace },
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });

  return {
    handle,
    addDeployment(ns, s) {
      const labels = { app: s.name, ...s.labels };
      const containers = [
        {
          name: 'main',
          image: s.image ?? `registry.local/${s.name}:1`,
          resources: { requests: { ...(s.cpu ? { cpu: s.cpu } : {}), ...(s.memory ? { memory: s.memory } : {}) } },
        },
        ...(s.sidecars ?? []).map((n) => ({ name: n, image: `registry.local/${n}:1` })),
      ];
      const obj = {
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: { name: s.name, namespace: ns, uid: `uid-${s.name}`, generation: 1, resourceVersion: nextRv(), labels, annotations: s.annotations ?? {} },
        spec: {
          replicas: s.replicas ?? 1,
          selector: { matchLabels: { app: s.name } },
          template: { metadata: { labels: { app: s.name } }, spec: { containers } },
        },
        status: { observedGeneration: 1 },
      };
      canonicalResources(obj);
      const e: Entry = {
        obj,
        pods: [],
        service: s.service === undefined ? s.name : s.service,
        seq: ++seq,
        ipFamilies: s.ipFamilies ?? ['IPv4'],
        fqdnSlice: s.fqdnSlice ?? false,
      };
      const hash = templateHash(obj);
      for (let i = 0; i < obj.spec.replicas; i++) e.pods.push(newPod(e, hash, s.ready ?? true));
      refreshStatus(e);
      store.set(key(ns, s.name), e);
    },
    deployment: (ns, name) => store.get(key(ns, name))?.obj,
    stall(ns, name) {
      stalled.add(key(ns, name));
      const e = store.get(key(ns, name));
      if (e) refreshStatus(e);
    },
    stop: () => clearInterval(timer),
  };
}

export interface KubernetesDouble extends HttpDouble {
  model: KubernetesModel;
}

export async function startKubernetesDouble(options: KubernetesModelOptions = {}): Promise<KubernetesDouble> {
  const model = createKubernetesModel(options);
  const http = await startHttpDouble(
    (req) => model.handle(req),
    () => model.stop(),
  );
  return Object.assign(http, { model });
}

/** Equality-based selectors only (`a=b,c`, `a`), which is all the driver sends. */
function matches(labels: Record<string, string> | undefined, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return v === undefined ? labels?.[k] !== undefined : labels?.[k] === v;
  });
}

function applyPatch(req: DoubleRequest, target: any): { value: any } | DoubleResponse {
  const type = String(req.headers['content-type'] ?? '').split(';')[0];
  let body: any;
  try {
    body = JSON.parse(req.body);
  } catch {
    return status(400, 'BadRequest', 'the patch body is not JSON');
  }
  const value = structuredClone(target);
  if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') {
    if (typeof body !== 'object' || Array.isArray(body)) return status(400, 'BadRequest', 'merge patch must be an object');
    return { value: mergePatch(value, body) };
  }
  if (type === 'application/json-patch+json') {
    if (!Array.isArray(body)) return status(400, 'BadRequest', 'json patch must be an array of operations');
    for (const op of body) {
      const segs = String(op.path)
        .split('/')
        .slice(1)
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
      const last = segs.pop()!;
      let parent = value;
      for (const s of segs) {
        parent = parent?.[s];
        if (parent === undefined) return status(422, 'Invalid', `json patch: path ${op.path} does not exist`);
      }
      if (op.op === 'test') {
        if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) return status(422, 'Invalid', `json patch: test failed at ${op.path}`);
      } else if (op.op === 'add' || op.op === 'replace') {
        if (op.op === 'replace' && !(last in parent)) return status(422, 'Invalid', `json patch: replace of missing ${op.path}`);
        if (Array.isArray(parent) && op.op === 'add') parent.splice(last === '-' ? parent.length : Number(last), 0, op.value);
        else parent[last] = op.value;
      } else if (op.op === 'remove') {
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete parent[last];
      } else return status(422, 'Invalid', `json patch: unsupported op ${op.op}`);
    }
    return { value };
  }
  return status(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
  );
}

function mergePatch(target: any, patch: any): any {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out = typeof target === 'object' && target !== null && !Array.isArray(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * Rewrites every container's requests/limits to canonical form, as the API server does by
 * decoding into `resource.Quantity` and encoding again; returns the decode error for a value
 * that is not a quantity (the message is apimachinery's ErrFormatWrong).
 */
function canonicalResources(obj: any): string | undefined {
  for (const c of obj.spec?.template?.spec?.containers ?? []) {
    for (const part of ['requests', 'limits']) {
      for (const [k, v] of Object.entries<any>(c.resources?.[part] ?? {})) {
        const q = canonicalQuantity(String(v));
        if (q === undefined) return `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`;
        c.resources[part][k] = q;
      }
    }
  }
  return undefined;
}
