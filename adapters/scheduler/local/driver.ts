import type { Redis } from 'ioredis';
import type { Deployment, DeploymentDefinition, SchedulerDriver } from '../../../engine/ports/scheduler.ts';
import { DeploymentDefinitionSchema } from '../../../engine/domain/deployments/definition.ts';
import { outcomeOf } from '../../../engine/domain/dry-run-put.ts';
import { invalid, notFound, timeout as timeoutError, unavailable } from '../../../engine/domain/deployments/errors.ts';
import { normaliseScale } from '../../../engine/domain/deployments/scale-request.ts';
import { formatIssues, issuesFromZod } from '../../../engine/shared/issues.ts';
import { pollUntilReady } from '../wait-ready.ts';
import { localSchedulerKeys } from '../../redis/keys.ts';
import { definitionOf, toDeployment, type DesiredRecord, type ObservedRecord } from './state.ts';

/**
 * The local driver: reads and writes desired state in Redis and reads the observed state the
 * supervisor (adapters/scheduler/local/supervisor.ts, one per installation) publishes. It
 * runs no process itself, so the API and the engine can both use it.
 */
export interface LocalDriverOptions {
  redis: Redis;
  /** Key prefix, e.g. '{veer:scheduler}' (one cluster slot). Driver and supervisor must agree. */
  prefix: string;
  /** Interval of waitReady's reads; default 50 ms (one Redis round trip each). */
  pollIntervalMs?: number;
}

const KIND = 'local';

// Bumps the generation and replaces `instances` atomically, so concurrent scales from the
// API and a script never lose an update; the spec string is carried through untouched.
const SCALE_LUA = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return false end
local d = cjson.decode(cur)
d.generation = d.generation + 1
d.instances = tonumber(ARGV[2])
local out = cjson.encode(d)
redis.call('HSET', KEYS[1], ARGV[1], out)
redis.call('PUBLISH', KEYS[2], ARGV[1])
return out`;

const DEFINE_LUA = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local gen = 1
if cur then gen = cjson.decode(cur).generation + 1 end
local out = cjson.encode({ generation = gen, instances = tonumber(ARGV[2]), spec = ARGV[3], annotations = ARGV[4] })
redis.call('HSET', KEYS[1], ARGV[1], out)
redis.call('PUBLISH', KEYS[2], ARGV[1])
return out`;

export function createLocalDriver(options: LocalDriverOptions): SchedulerDriver {
  const { redis } = options;
  const keys = localSchedulerKeys(options.prefix);
  const hint = 'check that Redis (VEER_REDIS_URL) is running';
  const call = async <T>(name: string | undefined, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (cause) {
      throw unavailable({ driver: KIND, deployment: name, cause }, hint);
    }
  };

  const get = async (name: string): Promise<Deployment> => {
    const [d, o] = await call(name, () => Promise.all([redis.hget(keys.desired, name), redis.get(keys.observed(name))]));
    if (!d) throw notFound({ driver: KIND, deployment: name }, 'define it first with PUT /api/v1/deployments/{name}');
    return toDeployment(name, JSON.parse(d) as DesiredRecord, o ? (JSON.parse(o) as ObservedRecord) : undefined);
  };

  /** The definition checked as `define` checks it: instances, the spec string and annotations as stored. */
  const checked = (name: string, definition: DeploymentDefinition) => {
    const parsed = DeploymentDefinitionSchema.safeParse(definition);
    if (!parsed.success) {
      const issues = issuesFromZod(parsed.error);
      throw invalid(KIND, `invalid definition of '${name}': ${formatIssues(issues)}`, { issues });
    }
    const { instances, annotations, ...spec } = parsed.data;
    return { instances, spec: JSON.stringify(spec), annotations: JSON.stringify(annotations) };
  };

  return {
    kind: KIND,
    capabilities: { define: true, resources: false },
    async list() {
      const all = await call(undefined, () => redis.hgetall(keys.desired));
      const names = Object.keys(all).sort();
      if (!names.length) return [];
      const observed = await call(undefined, () => redis.mget(...names.map((n) => keys.observed(n))));
      return names.map((n, i) => toDeployment(n, JSON.parse(all[n]), observed[i] ? JSON.parse(observed[i]!) : undefined));
    },
    get,
    async scale(name, request) {
      const r = normaliseScale(KIND, request, false);
      const out = await call(name, () => redis.eval(SCALE_LUA, 2, keys.desired, keys.desiredChanged, name, String(r.instances)));
      if (!out) throw notFound({ driver: KIND, deployment: name }, 'define it first with PUT /api/v1/deployments/{name}');
      return get(name);
    },
    async waitReady(name, o) {
      try {
        return await pollUntilReady({ driver: KIND, name, ...o, intervalMs: options.pollIntervalMs ?? 50, read: () => get(name) });
      } catch (err) {
        if ((err as { code?: string }).code === 'SCHEDULER.TIMEOUT' && !(await redis.exists(keys.lease).catch(() => 1))) {
          throw timeoutError(
            { driver: KIND, deployment: name },
            o.timeoutMs,
            'no local supervisor is running; it is started by the engine process (npm run engine / npm start)',
          );
        }
        throw err;
      }
    },
    async define(name: string, definition: DeploymentDefinition) {
      const next = checked(name, definition);
      await call(name, () => redis.eval(DEFINE_LUA, 2, keys.desired, keys.desiredChanged, name, String(next.instances), next.spec, next.annotations));
      return get(name);
    },
    async planDefine(name: string, definition: DeploymentDefinition) {
      const next = checked(name, definition);
      const [d, o] = await call(name, () => Promise.all([redis.hget(keys.desired, name), redis.get(keys.observed(name))]));
      const current = d ? (JSON.parse(d) as DesiredRecord) : undefined;
      const observed = o ? (JSON.parse(o) as ObservedRecord) : undefined;
      // Compared as parsed JSON: the stored spec string may order its keys differently.
      const view = (r: Omit<DesiredRecord, 'generation'>) => ({
        instances: r.instances,
        spec: JSON.parse(r.spec),
        annotations: JSON.parse(r.annotations ?? '{}'),
      });
      const outcome = outcomeOf(current && view(current), view(next));
      if (current && outcome === 'unchanged') return { outcome, deployment: toDeployment(name, current, observed) };
      return { outcome, deployment: toDeployment(name, { ...next, generation: (current?.generation ?? 0) + 1 }, observed) };
    },
    async definition(name: string) {
      const d = await call(name, () => redis.hget(keys.desired, name));
      return d ? definitionOf(JSON.parse(d) as DesiredRecord) : undefined;
    },
    async remove(name: string) {
      // The supervisor drains the instances once the definition is gone.
      const n = await call(name, () => redis.hdel(keys.desired, name));
      if (n) await call(name, () => redis.publish(keys.desiredChanged, name));
      return n > 0;
    },
    async close() {},
  };
}
