import type { Redis } from 'ioredis';
import type { Workflow, WorkflowSpec } from '../domain/workflow.ts';
import { NotFoundError } from '../shared/errors.ts';
import type { Keys } from './keys.ts';

export interface WorkflowVersionInfo {
  version: number;
  createdAt: string;
}

/**
 * Workflows in Redis: the current version as JSON at `wf:<name>`, every version in the
 * hash `wf:<name>:versions` (version → JSON), names in the set `workflows`. A change is
 * published on `workflows:changed` so triggers in every process can refresh.
 */
export interface WorkflowStore {
  put(name: string, spec: WorkflowSpec, compiled: string): Promise<Workflow>;
  get(name: string): Promise<Workflow | undefined>;
  /** Throws NotFoundError. */
  require(name: string): Promise<Workflow>;
  getVersion(name: string, version: number): Promise<Workflow | undefined>;
  versions(name: string): Promise<WorkflowVersionInfo[]>;
  list(): Promise<Workflow[]>;
  delete(name: string): Promise<boolean>;
  /** Calls `listener` whenever any workflow changes in any process; returns an unsubscribe. */
  subscribe(listener: (name: string) => void): () => void;
}

// Version numbers come from the versions hash length so concurrent PUTs cannot reuse one.
const PUT_SCRIPT = `
local v = redis.call('HLEN', KEYS[2]) + 1
local created = ARGV[3]
local prev = redis.call('GET', KEYS[1])
if prev then
  local c = string.match(prev, '^{"version":%d+,"createdAt":("[^"]*")')
  if c then created = c end
end
local json = '{"version":' .. v .. ',"createdAt":' .. created .. ',' .. string.sub(ARGV[1], 2)
redis.call('SET', KEYS[1], json)
redis.call('HSET', KEYS[2], tostring(v), json)
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('PUBLISH', KEYS[4], ARGV[2])
return json
`;

export function createWorkflowStore(options: { redis: Redis; subscriber?: () => Redis; keys: Keys }): WorkflowStore {
  const { redis, keys } = options;
  const listeners = new Set<(name: string) => void>();
  let sub: Redis | undefined;

  const parse = (json: string | null): Workflow | undefined => (json ? (JSON.parse(json) as Workflow) : undefined);

  return {
    async put(name, spec, compiled) {
      const now = new Date().toISOString();
      // Lua prepends version and createdAt as the first two fields (no cjson: it mangles `{}`).
      const rest = { name, ...spec, compiled, updatedAt: now };
      const json = (await redis.eval(
        PUT_SCRIPT, 4,
        keys.workflow(name), keys.workflowVersions(name), keys.workflowNames, keys.workflowsChanged,
        JSON.stringify(rest), name, JSON.stringify(now),
      )) as string;
      return JSON.parse(json) as Workflow;
    },
    async get(name) {
      const wf = parse(await redis.get(keys.workflow(name)));
      return wf;
    },
    async require(name) {
      const wf = await this.get(name);
      if (!wf) throw new NotFoundError('workflow', name);
      return wf;
    },
    async getVersion(name, version) {
      const wf = parse(await redis.hget(keys.workflowVersions(name), String(version)));
      return wf;
    },
    async versions(name) {
      const all = await redis.hgetall(keys.workflowVersions(name));
      return Object.values(all)
        .map((j) => JSON.parse(j) as Workflow)
        .map((w) => ({ version: w.version, createdAt: w.updatedAt }))
        .sort((a, b) => a.version - b.version);
    },
    async list() {
      const names = (await redis.smembers(keys.workflowNames)).sort();
      if (names.length === 0) return [];
      const jsons = await redis.mget(...names.map((n) => keys.workflow(n)));
      return jsons.map(parse).filter((w): w is Workflow => !!w);
    },
    async delete(name) {
      const res = await redis
        .multi()
        .del(keys.workflow(name), keys.workflowVersions(name), keys.workflowState(name), keys.cronLastTick(name))
        .srem(keys.workflowNames, name)
        .publish(keys.workflowsChanged, name)
        .exec();
      return Number(res?.[0]?.[1] ?? 0) > 0;
    },
    subscribe(listener) {
      listeners.add(listener);
      if (!sub && options.subscriber) {
        sub = options.subscriber();
        sub.on('message', (_channel: string, name: string) => {
          for (const l of listeners) l(name);
        });
        void sub.subscribe(keys.workflowsChanged).catch(() => undefined);
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && sub) {
          sub.disconnect();
          sub = undefined;
        }
      };
    },
  };
}

