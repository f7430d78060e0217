import type { Deployment, DeploymentEndpoint, DeploymentStatus, SchedulerDriver } from '../../engine/ports/scheduler.ts';
import { conflict, forbidden, invalid, notFound, unavailable } from '../../engine/domain/deployments/errors.ts';
import { normaliseScale } from '../../engine/domain/deployments/scale-request.ts';
import { pollUntilReady } from './wait-ready.ts';

/**
 * DC/OS Marathon driver over the /v2 REST API (Marathon 1.4+) with fetch. A deployment is the
 * app `<group>/<name>` (group default '/'). Scaling is `PATCH /v2/apps/<id>` with only the
 * changed fields (instances, cpus, mem in MiB): unlike `PUT`, which creates a missing app (and
 * so answers a misspelt name with a 422 about a missing `cmd`), `PATCH` never creates and
 * answers 404. Readiness means Marathon has no deployment left for the app
 * (`GET /v2/deployments`) and every task is running and, if the app has health checks, healthy.
 * DC/OS auth: `Authorization: token=<token>`.
 */
export interface MarathonDriverOptions {
  url: string;
  token?: string;
  /** App group the deployments live in, e.g. '/prod'; default '/'. */
  group?: string;
  pollIntervalMs?: number;
  fetch?: typeof fetch;
}

const KIND = 'marathon';
const MiB = 1024 * 1024;
const EMBED = 'embed=app.tasks&embed=app.counts&embed=app.deployments';

interface MarathonTask {
  host: string;
  /** Host ports only: empty on a container network, where nothing is mapped to the agent. */
  ports?: number[];
  ipAddresses?: Array<{ ipAddress: string; protocol?: string }>;
  state?: string;
  healthCheckResults?: Array<{ alive: boolean }>;
}
interface MarathonApp {
  id: string;
  instances: number;
  cpus?: number;
  mem?: number;
  cmd?: string | null;
  container?: { docker?: { image?: string }; portMappings?: Array<{ name?: string; containerPort?: number }> | null };
  networks?: Array<{ mode?: string }>;
  portDefinitions?: Array<{ name?: string }>;
  labels?: Record<string, string>;
  healthChecks?: unknown[];
  tasksRunning?: number;
  tasksHealthy?: number;
  tasksUnhealthy?: number;
  tasks?: MarathonTask[];
  deployments?: Array<{ id: string }>;
}

/**
 * Marathon answers are read field by field and checked where used (the double in
 * test/doubles/marathon.ts holds the documented shapes); typing every body here would only restate them.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type MarathonJson = any;

export function createMarathonDriver(options: MarathonDriverOptions): SchedulerDriver {
  const base = options.url.replace(/\/+$/, '');
  const group = '/' + (options.group ?? '/').replace(/^\/+|\/+$/g, '');
  const appId = (name: string) => (group === '/' ? '' : group) + '/' + name;
  const doFetch = options.fetch ?? fetch;

  const request = async (name: string | undefined, method: string, path: string, body?: unknown): Promise<MarathonJson> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `token=${options.token}`;
    const ctx = { driver: KIND, deployment: name, where: name ? `(app '${appId(name)}')` : undefined };
    let res: Response;
    try {
      res = await doFetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (cause) {
      throw unavailable({ ...ctx, cause }, `check VEER_MARATHON_URL (now ${base})`);
    }
    const text = await res.text();
    const json = text ? safeJson(text) : undefined;
    if (res.ok) return json;
    const message = String(json?.message ?? json?.description ?? text ?? res.statusText);
    const withCause = { ...ctx, cause: new Error(`${res.status}: ${message}`) };
    if (res.status === 401 || res.status === 403) {
      throw forbidden(withCause, res.status, `check VEER_MARATHON_TOKEN (a DC/OS service account token) and that it may update apps in group '${group}'`);
    }
    if (res.status === 404) throw notFound(withCause, `check the name and VEER_MARATHON_GROUP (now '${group}')`);
    if (res.status === 409) {
      const ids = (json?.deployments ?? []).map((d: { id: string }) => d.id).join(', ');
      throw conflict(
        withCause,
        `the app is locked by a running Marathon deployment${ids ? ` (${ids})` : ''}; wait for it to finish (GET /v2/deployments) and retry`,
      );
    }
    if (res.status === 400 || res.status === 422) {
      // Marathon's validation body: {message: 'Object is not valid', details: [{path, errors}]}.
      const issues = Array.isArray(json?.details) ? (json.details as Array<{ path?: string; errors?: string[] }>) : [];
      const said = issues.map((d) => `${d.path ?? '/'}: ${(d.errors ?? []).join('; ')}`).join(', ');
      throw invalid(KIND, `Marathon rejected the change to '${name}': ${message}${said ? ` (${said})` : ''}`, issues.length ? { issues } : {});
    }
    throw unavailable(withCause, `Marathon answered ${res.status}; check VEER_MARATHON_URL (now ${base}) and the Marathon leader`);
  };

  const get = async (name: string): Promise<Deployment> => toDeployment(name, (await request(name, 'GET', `/v2/apps${appId(name)}?${EMBED}`)).app);

  return {
    kind: KIND,
    capabilities: { define: false, resources: true },
    async list() {
      const prefix = group === '/' ? '/' : group + '/';
      const query = `${group === '/' ? '' : `id=${encodeURIComponent(group)}&`}${EMBED.replace(/app\./g, 'apps.')}`;
      const { apps } = await request(undefined, 'GET', `/v2/apps?${query}`);
      return (apps as MarathonApp[])
        .filter((a) => a.id.startsWith(prefix) && !a.id.slice(prefix.length).includes('/'))
        .map((a) => toDeployment(a.id.slice(prefix.length), a));
    },
    get,
    async scale(name, req) {
      const r = normaliseScale(KIND, req, true);
      const body: Record<string, number> = {};
      if (r.instances !== undefined) body.instances = r.instances;
      if (r.cpu !== undefined) body.cpus = r.cpu;
      if (r.memory !== undefined) body.mem = Math.max(1, Math.round(r.memory / MiB));
      await request(name, 'PATCH', `/v2/apps${appId(name)}`, body);
      return get(name);
    },
    waitReady(name, o) {
      return pollUntilReady({
        driver: KIND,
        name,
        where: `(app '${appId(name)}')`,
        ...o,
        intervalMs: options.pollIntervalMs ?? 1000,
        read: () => get(name),
        isReady: async () => {
          const deployments = (await request(name, 'GET', '/v2/deployments')) as Array<{ affectedApps?: string[] }>;
          return !deployments.some((d) => d.affectedApps?.includes(appId(name)));
        },
      });
    },
    async close() {},
  };
}

function toDeployment(name: string, app: MarathonApp): Deployment {
  const checked = (app.healthChecks?.length ?? 0) > 0;
  const running = (app.tasks ?? []).filter((t) => !t.state || t.state === 'TASK_RUNNING');
  const endpoints: DeploymentEndpoint[] = running.flatMap((t) => {
    const ready = !checked || (!!t.healthCheckResults?.length && t.healthCheckResults.every((h) => h.alive));
    return taskAddresses(app, t).map((a) => ({ ...a, ready }));
  });
  const readyTasks = running.filter((t) => !checked || (!!t.healthCheckResults?.length && t.healthCheckResults.every((h) => h.alive))).length;
  let status: DeploymentStatus;
  if (app.deployments?.length) status = 'progressing';
  else if (readyTasks === app.instances && running.length === app.instances) status = 'ready';
  else status = (app.tasksUnhealthy ?? 0) > 0 ? 'degraded' : 'progressing';
  return {
    name,
    desiredInstances: app.instances,
    readyInstances: readyTasks,
    ...(app.cpus !== undefined ? { cpu: app.cpus } : {}),
    ...(app.mem !== undefined ? { memory: Math.round(app.mem * MiB) } : {}),
    ...(app.container?.docker?.image ? { image: app.container.docker.image } : {}),
    ...(app.cmd ? { command: app.cmd } : {}),
    labels: app.labels ?? {},
    status,
    endpoints,
  };
}

/**
 * Where a task listens. On a container network (`networks: [{mode: 'container'}]`, e.g. DC/OS's
 * overlay) the task has its own IP and nothing is mapped to the agent, so `ports` is empty: the
 * address is `ipAddresses[].ipAddress` and the port the mapping's `containerPort`. Host and
 * bridge mode are reached through the agent: `host` and the host ports in `ports`.
 */
function taskAddresses(app: MarathonApp, t: MarathonTask): Array<{ host: string; port: number; name?: string }> {
  const named = (port: number, name?: string) => ({ port, ...(name ? { name } : {}) });
  if (app.networks?.[0]?.mode === 'container') {
    // One address per task; an IPv4 one first, since the gateway writes `host:port`.
    const ips = t.ipAddresses ?? [];
    const ip = (ips.find((a) => a.protocol !== 'IPv6') ?? ips[0])?.ipAddress;
    if (!ip) return [];
    return (app.container?.portMappings ?? []).filter((pm) => pm.containerPort).map((pm) => ({ host: ip, ...named(pm.containerPort!, pm.name) }));
  }
  const names = app.portDefinitions?.length ? app.portDefinitions : (app.container?.portMappings ?? []);
  return (t.ports ?? []).map((port, i) => ({ host: t.host, ...named(port, names[i]?.name) }));
}

function safeJson(text: string): MarathonJson {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
