import type { Redis } from 'ioredis';
import { STATE_LIMITS, type StateStore } from '../../engine/ports/state-store.ts';
import { ValidationError } from '../../engine/shared/errors.ts';
import { guarded } from './errors.ts';
import type { RedisKeys } from './keys.ts';

/** HSET unless the field is new and the hash already has ARGV[3] fields: -1 when written, else the field count. */
const SET_WITHIN_LIMIT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  local count = redis.call('HLEN', KEYS[1])
  if count >= tonumber(ARGV[3]) then return count end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return -1
`;

/** Per-workflow script state (`ctx.state`): small JSON values in the hash `wf:<name>:state`. */
export function createRedisStateStore(options: { redis: Redis; keys: RedisKeys }): StateStore {
  const { redis, keys } = options;
  return guarded('state store', {
    async get(workflow: string, key: string) {
      const v = await redis.hget(keys.workflowState(workflow), key);
      return v === null ? undefined : JSON.parse(v);
    },
    async set(workflow: string, key: string, value: unknown) {
      if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key) > STATE_LIMITS.keyBytes) {
        throw new ValidationError(`state key must be a non-empty string of at most ${STATE_LIMITS.keyBytes} bytes`, [{ path: 'key', message: 'invalid' }]);
      }
      const json = JSON.stringify(value ?? null);
      if (Buffer.byteLength(json) > STATE_LIMITS.valueBytes) {
        throw new ValidationError(`state value for '${key}' is ${Buffer.byteLength(json)} bytes as JSON; the limit is ${STATE_LIMITS.valueBytes}`, [
          { path: key, message: 'too large' },
        ]);
      }
      // Check and write in one script: two concurrent sets of new keys cannot both see room for one.
      const count = Number(await redis.eval(SET_WITHIN_LIMIT, 1, keys.workflowState(workflow), key, json, STATE_LIMITS.keys));
      if (count >= 0) {
        throw new ValidationError(`workflow '${workflow}' already has ${count} state keys (limit ${STATE_LIMITS.keys}); delete some first`, [
          { path: key, message: 'too many keys' },
        ]);
      }
    },
    async delete(workflow: string, key: string) {
      return (await redis.hdel(keys.workflowState(workflow), key)) > 0;
    },
    async all(workflow: string) {
      const h = await redis.hgetall(keys.workflowState(workflow));
      return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, JSON.parse(v)]));
    },
    async clear(workflow: string) {
      // One transaction: the count is of the keys this DEL removed, not of an earlier read.
      const res = await redis.multi().hlen(keys.workflowState(workflow)).del(keys.workflowState(workflow)).exec();
      return Number(res?.[0]?.[1] ?? 0);
    },
  });
}
