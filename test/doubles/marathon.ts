import { randomUUID } from 'node:crypto';
import { startHttpDouble, type DoubleRequest, type DoubleResponse, type HttpDouble } from './http-double.ts';

/**
 * A protocol double of Marathon's /v2 API (1.4+) as the driver uses it, faithful to the documented
 * shapes: `GET /v2/apps[?id=&embed=]` → `{apps}`, `GET /v2/apps/<id>` → `{app}` with tasks,
 * counts and deployments, `GET /v2/deployments`, `GET /v2/apps/<id>/tasks`, and the two writes
 * with Marathon's different semantics (see `update` below): `PUT` creates a missing app,
 * `PATCH` does not. DC/OS auth with `Authorization: token=<t>` (401 without, 403 for a read-only
 * token on writes). Deployments progress one step per tick: start a task, make a task healthy,
 * or kill one; a cpus/mem change replaces every task.
 * Sources (Marathon v1.9.109, https://github.com/mesosphere/marathon/tree/v1.9.109):
 * src/main/scala/mesosphere/marathon/api/v2/AppsResource.scala (replace/patch/update),
 * api/v2/AppHelpers.scala (updateOrCreate), api/v2/Validation.scala (422 body), Exception.scala
 * and api/MarathonExceptionMapper.scala (404/409 bodies), api/RestResource.scala
 * (Marathon-Deployment-Id header), docs/docs/networking.md and raml/TaskConversion.scala (task
 * `ports` are host ports only; `ipAddresses` carry the container's address).
 */
export interface MarathonAppSeed {
  id: string;
  instances?: number;
  cpus?: number;
  mem?: number;
  image?: string;
  labels?: Record<string, string>;
  /** HTTP health check on port index 0 (default true). */
  healthChecks?: boolean;
  /**
   * Networking mode (default 'host'): 'host' uses portDefinitions and a host port per task;
   * 'container/bridge' maps containerPort 8080 to a host port; 'container' (a CNI/overlay
   * network such as DC/OS's 'dcos') has no host port at all: a task is reachable only on its
   * own IP (`ipAddresses`) at the containerPort.
   */
  network?: 'host' | 'container' | 'container/bridge';
}

interface Task {
  id: string;
  appId: string;
  host: string;
  ports: number[];
  /** The task's own address: the agent's in host mode, the container's otherwise. */
  ipAddress: string;
  state: string;
  startedAt: string;
  version: string;
  healthy: boolean;
}
interface AppEntry {
  app: any;
  tasks: Task[];
  deployment?: { id: string; version: string };
}

export interface MarathonDouble extends HttpDouble {
  addApp(seed: MarathonAppSeed): void;
  app(id: string): any;
  /** The app's tasks as `GET /v2/apps/<id>/tasks` renders them; [] for an unknown app. */
  appTasks(id: string): any[];
}

export async function startMarathonDouble(options: { tokens?: Record<string, 'admin' | 'read'>; stepMs?: number } = {}): Promise<MarathonDouble> {
  const apps = new Map<string, AppEntry>();
  let portSeq = 31000;
  const now = () => new Date().toISOString();
  const configKey = (app: any) => JSON.stringify([app.cpus, app.mem, app.cmd, app.container]);

  let ipSeq = 0;
  const newTask = (e: AppEntry): Task => {
    const mode = e.app.networks?.[0]?.mode ?? 'host';
    ipSeq++;
    // Only portMappings with a hostPort (bridge) or portDefinitions (host) allocate host ports.
    const hostPorts = mode === 'container' ? [] : [++portSeq];
    const ipAddress = mode === 'container' ? `9.0.${ipSeq >> 8}.${ipSeq & 255}` : mode === 'container/bridge' ? `172.17.0.${(ipSeq % 250) + 2}` : '127.0.0.1';
    return { ...taskBase(e), ports: hostPorts, ipAddress };
  };
  const taskBase = (e: AppEntry) => ({
    id: `${e.app.id.slice(1).replace(/\//g, '_')}.${randomUUID()}`,
    appId: e.app.id,
    host: '127.0.0.1',
    state: 'TASK_RUNNING',
    startedAt: now(),
    version: configKey(e.app),
    healthy: false,
  });

  const render = (e: AppEntry, embedTasks: boolean) => {
    const checked = e.app.healthChecks.length > 0;
    const tasks = e.tasks.map((t) => ({
      id: t.id,
      appId: t.appId,
      host: t.host,
      ports: t.ports,
      ipAddresses: [{ ipAddress: t.ipAddress, protocol: 'IPv4' }],
      state: t.state,
      startedAt: t.startedAt,
      version: e.app.version,
      healthCheckResults: checked ? [{ alive: t.healthy, consecutiveFailures: 0, taskId: t.id }] : [],
    }));
    return {
      ...e.app,
      tasksStaged: 0,
      tasksRunning: e.tasks.length,
      tasksHealthy: checked ? e.tasks.filter((t) => t.healthy).length : 0,
      tasksUnhealthy: 0,
      deployments: e.deployment ? [{ id: e.deployment.id }] : [],
      ...(embedTasks ? { tasks } : {}),
    };
  };

  const step = (e: AppEntry) => {
    if (!e.deployment) return;
    const key = configKey(e.app);
    const current = e.tasks.filter((t) => t.version === key);
    const unhealthy = e.tasks.find((t) => !t.healthy);
    const old = e.tasks.find((t) => t.version !== key);
    if (unhealthy) unhealthy.healthy = true;
    else if (current.length < e.app.instances) e.tasks.push(newTask(e));
    else if (old) e.tasks.splice(e.tasks.indexOf(old), 1);
    else if (current.length > e.app.instances) e.tasks.splice(e.tasks.indexOf(current[current.length - 1]), 1);
    else e.deployment = undefined;
  };
  const timer = setInterval(() => apps.forEach(step), options.stepMs ?? 20);

  const handle = (req: DoubleRequest): DoubleResponse => {
    if (options.tokens) {
      const auth = req.headers.authorization ?? '';
      const role = auth.startsWith('token=') ? options.tokens[auth.slice(6)] : undefined;
      if (!role)
        return {
          status: 401,
          body: { title: 'Unauthorized', description: 'Authentication token is missing or invalid.' },
          headers: { 'www-authenticate': 'acsjwt' },
        };
      if (role === 'read' && req.method !== 'GET') return { status: 403, body: { message: `Not Authorized to perform this action!` } };
    }
    if (req.path === '/v2/deployments' && req.method === 'GET') {
      return {
        status: 200,
        body: [...apps.values()]
          .filter((e) => e.deployment)
          .map((e) => ({
            id: e.deployment!.id,
            version: e.deployment!.version,
            affectedApps: [e.app.id],
            affectedPods: [],
            steps: [{ actions: [{ action: 'ScaleApplication', app: e.app.id }] }],
            currentActions: [{ action: 'ScaleApplication', app: e.app.id }],
            currentStep: 1,
            totalSteps: 1,
          })),
      };
    }
    if (req.path === '/v2/apps' && req.method === 'GET') {
      const filter = req.query.get('id');
      const embedTasks = req.query.getAll('embed').includes('apps.tasks');
      return { status: 200, body: { apps: [...apps.values()].filter((e) => !filter || e.app.id.includes(filter)).map((e) => render(e, embedTasks)) } };
    }
    const m = /^\/v2\/apps(\/.+?)(\/tasks)?$/.exec(req.path);
    if (!m) return { status: 404, body: { message: `Not found: ${req.path}` } };
    const [, id, tasks] = m;
    const e = apps.get(id);
    if (req.method === 'PUT' && !tasks) return update(req, id, e, true);
    if (!e) return unknownApp(id);
    if (tasks && req.method === 'GET') return { status: 200, body: { tasks: render(e, true).tasks } };
    if (req.method === 'GET') return { status: 200, body: { app: render(e, req.query.getAll('embed').includes('app.tasks') || !req.query.has('embed')) } };
    if (req.method === 'PATCH' && !tasks) return update(req, id, e, false);
    return { status: 405, body: { message: `HTTP method ${req.method} is not supported by this resource.` } };
  };

  // AppHelpers.updateOrCreate throws AppNotFoundException; RestResource renders it like this.
  const unknownApp = (id: string): DoubleResponse => ({ status: 404, body: { message: `App '${id}' does not exist` } });

  /**
   * AppsResource.update: `PUT` is `allowCreation = true` with `?partialUpdate` (default true);
   * `PATCH` is always partial and never creates (404 instead). A missing app, or
   * `partialUpdate=false`, means the body is a complete app definition and is validated as one,
   * so a PUT of only `{instances}` to a misspelt id is a 422, not a 404. Validation precedes the
   * deployment lock (409 unless `?force=true`), as in Marathon, where the lock is only checked
   * when the deployment plan is started.
   */
  const update = (req: DoubleRequest, id: string, e: AppEntry | undefined, allowCreation: boolean): DoubleResponse => {
    let body: any;
    try {
      body = JSON.parse(req.body || '{}');
    } catch {
      return { status: 400, body: { message: 'Invalid JSON', details: [{ path: '/', errors: ['error.expected.jsobject'] }] } };
    }
    if (!e && !allowCreation) return unknownApp(id);
    const complete = !e || req.query.get('partialUpdate') === 'false';
    const next = complete ? appDefinition(id, body) : { ...e!.app, ...pick(body) };
    const errors = validate(next, complete);
    if (errors.length) return { status: 422, body: { message: 'Object is not valid', details: errors } };
    if (e?.deployment && req.query.get('force') !== 'true') {
      return {
        status: 409,
        body: {
          message: `App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.`,
          deployments: [{ id: e.deployment.id }],
        },
      };
    }
    next.version = now();
    const entry: AppEntry = e ?? { app: next, tasks: [] };
    entry.app = next;
    entry.deployment = { id: randomUUID(), version: next.version };
    apps.set(id, entry);
    const headers = { 'marathon-deployment-id': entry.deployment.id, ...(e ? {} : { location: id }) };
    return { status: e ? 200 : 201, headers, body: { deploymentId: entry.deployment.id, version: next.version } };
  };

  const http = await startHttpDouble(handle, () => clearInterval(timer));
  return Object.assign(http, {
    addApp(s: MarathonAppSeed) {
      const network = s.network ?? 'host';
      const app = appDefinition(s.id, {
        instances: s.instances ?? 1,
        cpus: s.cpus ?? 0.5,
        mem: s.mem ?? 256,
        container: {
          type: 'DOCKER',
          docker: { image: s.image ?? `registry.local${s.id}:1`, forcePullImage: false },
          // Container networks use portMappings instead of portDefinitions (networking.md); hostPort
          // is what bridge mode maps, container mode has none.
          portMappings:
            network === 'host' ? [] : [{ containerPort: 8080, ...(network === 'container/bridge' ? { hostPort: 0 } : {}), name: 'http', protocol: 'tcp' }],
        },
        networks: network === 'host' ? [{ mode: 'host' }] : [{ mode: network, ...(network === 'container' ? { name: 'dcos' } : {}) }],
        portDefinitions: network === 'host' ? [{ port: 10000, name: 'http', protocol: 'tcp' }] : [],
        labels: s.labels ?? {},
        healthChecks:
          s.healthChecks === false
            ? []
            : [
                {
                  protocol: 'MESOS_HTTP',
                  path: '/health',
                  portIndex: 0,
                  gracePeriodSeconds: 30,
                  intervalSeconds: 10,
                  timeoutSeconds: 5,
                  maxConsecutiveFailures: 3,
                },
              ],
      });
      const e: AppEntry = { app, tasks: [] };
      for (let i = 0; i < app.instances; i++) e.tasks.push({ ...newTask(e), healthy: true });
      apps.set(s.id, e);
    },
    app: (id: string) => apps.get(id)?.app,
    appTasks(id: string) {
      const e = apps.get(id);
      return e ? (render(e, true).tasks ?? []) : [];
    },
  });
}

/** The fields a partial update may change here (the driver sends instances, cpus, mem). */
const UPDATABLE = ['instances', 'cpus', 'mem', 'labels', 'cmd', 'args', 'env', 'container', 'networks', 'portDefinitions', 'healthChecks'];
const pick = (body: any) => Object.fromEntries(Object.entries(body ?? {}).filter(([k]) => UPDATABLE.includes(k)));

/** A complete app definition: the body over Marathon's defaults (AppDefinition.scala: 1 instance, 1 cpu, 128 MiB). */
function appDefinition(id: string, body: any): any {
  return {
    id,
    instances: 1,
    cpus: 1,
    mem: 128,
    disk: 0,
    cmd: null,
    env: {},
    labels: {},
    container: null,
    networks: [{ mode: 'host' }],
    portDefinitions: [],
    healthChecks: [],
    upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
    ...pick(body),
    version: new Date().toISOString(),
  };
}

/**
 * The checks the driver can trip, with Marathon's paths and messages; `complete` adds the
 * whole-definition rule (AppValidation `containsCmdArgsOrContainer`, reported at path '/').
 */
function validate(app: any, complete: boolean): Array<{ path: string; errors: string[] }> {
  const errors: Array<{ path: string; errors: string[] }> = [];
  if (!Number.isInteger(app.instances) || app.instances < 0) errors.push({ path: '/instances', errors: [`got ${app.instances}, expected 0 or more`] });
  if (!(app.cpus > 0)) errors.push({ path: '/cpus', errors: [`got ${app.cpus}, expected more than 0`] });
  if (!(app.mem > 0)) errors.push({ path: '/mem', errors: [`got ${app.mem}, expected more than 0`] });
  const runnable = !!app.cmd !== !!app.args?.length || (!app.cmd && !app.args?.length && !!app.container?.docker?.image);
  if (complete && !runnable) errors.push({ path: '/', errors: ["AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."] });
  return errors;
}
