import type { Redis } from 'ioredis';
import type { Quarantine, QuarantineStore } from '../../engine/ports/quarantine.ts';
import { guarded } from './errors.ts';
import type { RedisKeys } from './keys.ts';

/**
 * Counts a crash in the workflow's sorted set (member `<version>:<run id>`, score = Redis' own
 * clock in ms, so replicas with skewed clocks agree), drops those older than the window and
 * answers how many of this version are left. ARGV: window ms, member, `<version>:`.
 */
const RECORD_CRASH = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], window)
local n = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(m, 1, #ARGV[3]) == ARGV[3] then n = n + 1 end
end
return n
`;

/**
 * Quarantine in Redis: `wf:<name>:crashes` (recent process kills, expiring with the window) and
 * `wf:<name>:quarantine` (hash: version → JSON). Both go when the workflow is deleted.
 */
export function createRedisQuarantineStore(options: { redis: Redis; keys: RedisKeys }): QuarantineStore {
  const { redis, keys } = options;
  return guarded('quarantine store', {
    async recordCrash(workflow: string, version: number, runId: string, windowMs: number) {
      return Number(await redis.eval(RECORD_CRASH, 1, keys.workflowCrashes(workflow), Math.max(1, Math.round(windowMs)), `${version}:${runId}`, `${version}:`));
    },
    async quarantine(entry: Quarantine) {
      return (await redis.hsetnx(keys.workflowQuarantine(entry.workflow), String(entry.version), JSON.stringify(entry))) === 1;
    },
    async get(workflow: string, version: number) {
      const json = await redis.hget(keys.workflowQuarantine(workflow), String(version));
      return json === null ? undefined : (JSON.parse(json) as Quarantine);
    },
  });
}
