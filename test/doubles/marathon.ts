import { randomUUID } from 'node:crypto';
import { startHttpDouble, type DoubleRequest, type DoubleResponse, type HttpDouble } from './http-double.ts';

/**
 * A protocol double of Marathon's /v2 API as the driver uses it, faithful to the documented
 * shapes: `GET /v2/apps[?id=&embed=]` → `{apps}`, `GET /v2/apps/<id>` → `{app}` with tasks,
 * counts and deployments, `PUT /v2/apps/<id>` (partial update) → `{deploymentId, version}`,
 * 409 "App is locked" while a deployment runs (unless `?force=true`), `GET /v2/deployments`,
 * `GET /v2/apps/<id>/tasks`. DC/OS auth with `Authorization: token=<t>` (401 without, 403 for a
 * read-only token on writes). Deployments progress one step per tick: start a task, make a
 * task healthy, or kill one; a cpus/mem change replaces every task.
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
}

interface Task {
  id: string;
  appId: string;
  host: string;
  ports: number[];
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
}

export async function startMarathonDouble(options: { tokens?: Record<string, 'admin' | 'read'>; stepMs?: number } = {}): Promise<MarathonDouble> {
  const apps = new Map<string, AppEntry>();
  let portSeq = 31000;
  const now = () => new Date().toISOString();
  const configKey = (app: any) => JSON.stringify([app.cpus, app.mem, app.cmd, app.container]);

  const newTask = (e: AppEntry): Task => ({
    id: `${e.app.id.slice(1).replace(/\//g, '_')}.${randomUUID()}`,
    appId: e.app.id,
    host: '127.0.0.1',
    ports: [++portSeq],
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
    if (!e) return { status: 404, body: { message: `App '${id}' does not exist` } };
    if (tasks && req.method === 'GET') return { status: 200, body: { tasks: render(e, true).tasks } };
    if (req.method === 'GET') return { status: 200, body: { app: render(e, req.query.getAll('embed').includes('app.tasks') || !req.query.has('embed')) } };
    if (req.method === 'PUT') {
      if (e.deployment && req.query.get('force') !== 'true') {
        return {
          status: 409,
          body: {
            message: `App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.`,
            deployments: [{ id: e.deployment.id }],
          },
        };
      }
      const body = JSON.parse(req.body || '{}');
      const errors = [];
      if (body.instances !== undefined && (!Number.isInteger(body.instances) || body.instances < 0))
        errors.push({ path: '/instances', errors: ['got -1, expected 0 or more'] });
      if (body.cpus !== undefined && !(body.cpus > 0)) errors.push({ path: '/cpus', errors: ['got 0, expected more than 0'] });
      if (body.mem !== undefined && !(body.mem > 0)) errors.push({ path: '/mem', errors: ['got 0, expected more than 0'] });
      if (errors.length) return { status: 422, body: { message: 'Object is not valid', details: errors } };
      Object.assign(e.app, Object.fromEntries(Object.entries(body).filter(([k]) => ['instances', 'cpus', 'mem', 'labels', 'cmd', 'env'].includes(k))));
      e.app.version = now();
      e.deployment = { id: randomUUID(), version: e.app.version };
      return { status: 200, body: { deploymentId: e.deployment.id, version: e.app.version } };
    }
    return { status: 405, body: { message: `HTTP method ${req.method} is not supported by this resource.` } };
  };

  const http = await startHttpDouble(handle, () => clearInterval(timer));
  return Object.assign(http, {
    addApp(s: MarathonAppSeed) {
      const app = {
        id: s.id,
        instances: s.instances ?? 1,
        cpus: s.cpus ?? 0.5,
        mem: s.mem ?? 256,
        disk: 0,
        cmd: null,
        env: {},
        container: { type: 'DOCKER', docker: { image: s.image ?? `registry.local${s.id}:1`, forcePullImage: false }, portMappings: [] },
        portDefinitions: [{ port: 10000, name: 'http', protocol: 'tcp' }],
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
        upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
        version: now(),
      };
      const e: AppEntry = { app, tasks: [] };
      for (let i = 0; i < app.instances; i++) e.tasks.push({ ...newTask(e), healthy: true });
      apps.set(s.id, e);
    },
    app: (id: string) => apps.get(id)?.app,
  });
}
