import type { Redis } from 'ioredis';
import type { Workflow, WorkflowSpec } from '../../engine/domain/workflow.ts';
import type { WorkflowStore } from '../../engine/ports/workflow-store.ts';
import { NotFoundError } from '../../engine/shared/errors.ts';
import { guarded } from './errors.ts';
import { CHANNELS, type RedisKeys } from './keys.ts';
import type { Subscriber } from './subscriber.ts';

/**
 * Workflows in Redis: the current version as JSON at `wf:<name>`, every version in the
 * hash `wf:<name>:versions` (version → JSON), names in the set `workflows`. A change is
 * published on `workflows:changed` so triggers in every process can refresh.
 */

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

export function createRedisWorkflowStore(options: { redis: Redis; keys: RedisKeys; subscriber?: Subscriber; onError?: (err: unknown) => void }): WorkflowStore {
  const { redis, keys } = options;
  const changed = keys.channel(CHANNELS.workflowsChanged);
  const parse = (json: string | null): Workflow | undefined => (json ? (JSON.parse(json) as Workflow) : undefined);

  /** Dedupe keys of a workflow (cron ticks, event ids): one key each, so they are found by pattern. */
  async function dedupeKeys(name: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', keys.dedupePattern(name), 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    return found;
  }

  const store = guarded('workflow store', {
    async put(name: string, spec: WorkflowSpec, compiled: string) {
      const now = new Date().toISOString();
      // Lua prepends version and createdAt as the first two fields (no cjson: it mangles `{}`).
      const rest = { name, ...spec, compiled, updatedAt: now };
      const json = (await redis.eval(
        PUT_SCRIPT,
        4,
        keys.workflow(name),
        keys.workflowVersions(name),
        keys.workflowNames,
        changed,
        JSON.stringify(rest),
        name,
        JSON.stringify(now),
      )) as string;
      return JSON.parse(json) as Workflow;
    },
    async get(name: string) {
      return parse(await redis.get(keys.workflow(name)));
    },
    async require(name: string) {
      const wf = parse(await redis.get(keys.workflow(name)));
      if (!wf) throw new NotFoundError('workflow', name);
      return wf;
    },
    async getVersion(name: string, version: number) {
      return parse(await redis.hget(keys.workflowVersions(name), String(version)));
    },
    async versions(name: string) {
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
    async delete(name: string) {
      // Runs stay (readable by id) until newer runs of a same-named workflow trim them.
      const res = await redis
        .multi()
        .del(keys.workflow(name), ...keys.perWorkflow(name).slice(1), ...(await dedupeKeys(name)))
        .srem(keys.workflowNames, name)
        .publish(changed, name)
        .exec();
      // The name set says whether it existed (every put adds the name).
      return Number(res?.[1]?.[1] ?? 0) > 0;
    },
  });

  return {
    ...store,
    subscribe(listener) {
      if (!options.subscriber) return () => undefined;
      let unsubscribe: (() => void) | undefined;
      let dropped = false;
      options.subscriber.listen(changed, listener).then(
        (u) => (dropped ? u() : (unsubscribe = u)),
        (err) => options.onError?.(err),
      );
      return () => {
        dropped = true;
        unsubscribe?.();
      };
    },
  };
}
