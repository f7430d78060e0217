import type { Redis } from 'ioredis';
import type { Workflow, WorkflowPause, WorkflowSpec } from '../../engine/domain/workflow.ts';
import type { WorkflowStore } from '../../engine/ports/workflow-store.ts';
import { NotFoundError } from '../../engine/shared/errors.ts';
import { guarded } from './errors.ts';
import { dataNodes } from './target.ts';
import { CHANNELS, type RedisKeys } from './keys.ts';
import type { Subscriber } from './subscriber.ts';

/**
 * Workflows in Redis: the current version as JSON at `wf:<name>`, every version in the
 * hash `wf:<name>:versions` (version → JSON), names in the set `workflows`. A change is
 * published on `workflows:changed` so triggers in every process can refresh. A pause lives
 * at `wf:<name>:paused`, outside the version JSON (pausing makes no version, and a new
 * version stays paused); `get`, `require`, `list` and `put` merge it in, `getVersion` does
 * not (a version is what was uploaded). `delete` leaves `wf:<name>:deleted` (its time, 30
 * days) so a late signal can be told the workflow was deleted; `put` removes it.
 */

const TOMBSTONE_SECONDS = 30 * 24 * 3600;

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
redis.call('DEL', KEYS[5])
redis.call('PUBLISH', KEYS[4], ARGV[2])
return {json, redis.call('GET', KEYS[6])}
`;

// KEYS: workflow, paused, channel. ARGV: pause JSON ('' = resume), name. Checked and written
// at once, so a pause never outlives a concurrent delete. Returns nil when absent.
const SET_PAUSED = `
local json = redis.call('GET', KEYS[1])
if not json then return false end
if ARGV[1] == '' then redis.call('DEL', KEYS[2]) else redis.call('SET', KEYS[2], ARGV[1]) end
redis.call('PUBLISH', KEYS[3], ARGV[2])
return json
`;

// KEYS: names, tombstone, channel. ARGV: name, ISO time, tombstone seconds. Runs in the
// delete's MULTI, after the keys are gone: the tombstone only for a workflow that existed.
const FORGET = `
local existed = redis.call('SREM', KEYS[1], ARGV[1])
if existed == 1 then redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) end
redis.call('PUBLISH', KEYS[3], ARGV[1])
return existed
`;

export function createRedisWorkflowStore(options: { redis: Redis; keys: RedisKeys; subscriber?: Subscriber; onError?: (err: unknown) => void }): WorkflowStore {
  const { redis, keys } = options;
  const changed = keys.channel(CHANNELS.workflowsChanged);
  const parse = (json: string | null): Workflow | undefined => (json ? (JSON.parse(json) as Workflow) : undefined);
  const withPause = (json: string | null, paused: string | null): Workflow | undefined => {
    const wf = parse(json);
    return wf && paused ? { ...wf, paused: JSON.parse(paused) as WorkflowPause } : wf;
  };
  const current = async (name: string) => {
    const [json, paused] = await redis.mget(keys.workflow(name), keys.workflowPaused(name));
    return withPause(json, paused);
  };

  /** Dedupe keys of a workflow (cron ticks, event ids): one key each, so they are found by pattern. */
  async function dedupeKeys(name: string): Promise<string[]> {
    const found: string[] = [];
    // A cluster's SCAN answers for one node: visit each master (the keys sit on one of them).
    for (const node of await dataNodes(redis)) {
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', keys.dedupePattern(name), 'COUNT', 1000);
        cursor = next;
        found.push(...batch);
      } while (cursor !== '0');
    }
    return found;
  }

  const store = guarded('workflow store', {
    async put(name: string, spec: WorkflowSpec, compiled: string) {
      const now = new Date().toISOString();
      // Lua prepends version and createdAt as the first two fields (no cjson: it mangles `{}`).
      const rest = { name, ...spec, compiled, updatedAt: now };
      const [json, paused] = (await redis.eval(
        PUT_SCRIPT,
        6,
        keys.workflow(name),
        keys.workflowVersions(name),
        keys.workflowNames,
        changed,
        keys.workflowDeleted(name),
        keys.workflowPaused(name),
        JSON.stringify(rest),
        name,
        JSON.stringify(now),
      )) as [string, string | null];
      return withPause(json, paused)!;
    },
    async get(name: string) {
      return current(name);
    },
    async require(name: string) {
      const wf = await current(name);
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
      const jsons = await redis.mget(...names.flatMap((n) => [keys.workflow(n), keys.workflowPaused(n)]));
      return names.map((_, i) => withPause(jsons[2 * i], jsons[2 * i + 1])).filter((w): w is Workflow => !!w);
    },
    async delete(name: string) {
      // Runs stay (readable by id) until newer runs of a same-named workflow trim them.
      const res = await redis
        .multi()
        .del(...keys.perWorkflow(name), ...(await dedupeKeys(name)))
        .eval(FORGET, 3, keys.workflowNames, keys.workflowDeleted(name), changed, name, new Date().toISOString(), TOMBSTONE_SECONDS)
        .exec();
      // The name set says whether it existed (every put adds the name).
      return Number(res?.[1]?.[1] ?? 0) > 0;
    },
    async deletedAt(name: string) {
      return (await redis.get(keys.workflowDeleted(name))) ?? undefined;
    },
    async setPaused(name: string, pause: WorkflowPause | null) {
      const json = (await redis.eval(SET_PAUSED, 3, keys.workflow(name), keys.workflowPaused(name), changed, pause ? JSON.stringify(pause) : '', name)) as
        string | null;
      const wf = parse(json);
      if (!wf) throw new NotFoundError('workflow', name);
      return pause ? { ...wf, paused: pause } : wf;
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
