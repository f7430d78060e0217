import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { SIGNAL_INBOX_MAX, type Signal } from '../../engine/domain/signal.ts';
import type { SignalStore } from '../../engine/ports/signal-store.ts';
import { VeerError } from '../../engine/shared/errors.ts';
import { guarded } from './errors.ts';
import type { RedisKeys } from './keys.ts';

/**
 * Signal inboxes in Redis, per workflow: `wf:<n>:signals` (sorted set: pending ids by
 * sequence), `wf:<n>:signals:seq` (the sequence counter), `wf:<n>:signals:data` (id → JSON),
 * `wf:<n>:signals:names` (id → name) and `wf:<n>:signals:taken` (id → the run holding it).
 * Every operation is one Lua script, so two runs never take the same signal and a send never
 * lands in the inbox of a workflow deleted meanwhile. The JSON is stored as sent (never
 * through cjson, which turns `{}` into `[]`); names sit in their own hash so filtering by
 * name decodes nothing. A taken signal keeps its data and its sequence (the id starts with
 * it), so a restore puts it back at its old place.
 */

// KEYS: workflow, inbox, seq, data, names. ARGV: JSON without id/seq, name, random suffix, max.
// Returns nil (no workflow), 'full', or the stored JSON.
const SEND = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 'full' end
local seq = redis.call('INCR', KEYS[3])
local id = string.format('%012d', seq) .. '-' .. ARGV[3]
local json = '{"id":"' .. id .. '","seq":' .. seq .. ',' .. string.sub(ARGV[1], 2)
redis.call('ZADD', KEYS[2], seq, id)
redis.call('HSET', KEYS[4], id, json)
redis.call('HSET', KEYS[5], id, ARGV[2])
return json
`;

// The oldest pending id named ARGV[1] ('' = any) not listed after it; false when none.
// KEYS: inbox, names.
const FIND = `
local function find(name, except)
  local skip = {}
  for i = 1, #except do skip[except[i]] = true end
  if name == '' and #except == 0 then
    local first = redis.call('ZRANGE', KEYS[1], 0, 0)
    return first[1] or false
  end
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if not skip[id] and (name == '' or redis.call('HGET', KEYS[2], id) == name) then return id end
  end
  return false
end
`;

// KEYS: inbox, names, data, taken. ARGV: name ('' = any), run id.
const TAKE = `${FIND}
local id = find(ARGV[1], {})
if not id then return false end
redis.call('ZREM', KEYS[1], id)
redis.call('HSET', KEYS[4], id, ARGV[2])
return redis.call('HGET', KEYS[3], id)
`;

// KEYS: inbox, names, data. ARGV: name ('' = any), ids to skip...
const PEEK = `${FIND}
local except = {}
for i = 2, #ARGV do except[#except + 1] = ARGV[i] end
local id = find(ARGV[1], except)
if not id then return false end
return redis.call('HGET', KEYS[3], id)
`;

// KEYS: inbox, data.
const PENDING = `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local json = redis.call('HGET', KEYS[2], id)
  if json then out[#out + 1] = json end
end
return out
`;

// KEYS: inbox, data, names, taken. ARGV: run id, 'commit' | 'restore'. Returns how many.
const SETTLE = `
local n = 0
local taken = redis.call('HGETALL', KEYS[4])
for i = 1, #taken, 2 do
  local id, run = taken[i], taken[i + 1]
  if run == ARGV[1] then
    redis.call('HDEL', KEYS[4], id)
    if ARGV[2] == 'commit' then
      redis.call('HDEL', KEYS[2], id)
      redis.call('HDEL', KEYS[3], id)
      n = n + 1
    elseif redis.call('HEXISTS', KEYS[2], id) == 1 then
      redis.call('ZADD', KEYS[1], tonumber(string.match(id, '^(%d+)-')), id)
      n = n + 1
    end
  end
end
return n
`;

export function createRedisSignalStore(options: { redis: Redis; keys: RedisKeys; inboxMax?: number }): SignalStore {
  const { redis, keys } = options;
  const inboxMax = options.inboxMax ?? SIGNAL_INBOX_MAX;
  const parse = (json: unknown): Signal | undefined => {
    if (typeof json !== 'string') return undefined;
    const { seq: _seq, ...signal } = JSON.parse(json) as Signal & { seq: number };
    return signal;
  };
  return guarded('signal store', {
    async send(workflow: string, signal: { name: string; value: unknown; sentBy: string }) {
      // Lua prepends id and seq (it alone knows the sequence); the rest is JSON from here.
      const rest = JSON.stringify({ name: signal.name, value: signal.value ?? null, sentAt: new Date().toISOString(), sentBy: signal.sentBy });
      const res = await redis.eval(
        SEND,
        5,
        keys.workflow(workflow),
        keys.signalInbox(workflow),
        keys.signalSeq(workflow),
        keys.signalData(workflow),
        keys.signalNames(workflow),
        rest,
        signal.name,
        randomBytes(4).toString('hex'),
        inboxMax,
      );
      if (res === 'full') {
        throw new VeerError('SIGNAL.INBOX_FULL', `workflow '${workflow}' already has ${inboxMax} pending signals; let its runs take some first`, {
          details: { workflow, limit: inboxMax },
        });
      }
      return parse(res);
    },
    async pending(workflow: string) {
      const res = (await redis.eval(PENDING, 2, keys.signalInbox(workflow), keys.signalData(workflow))) as string[];
      return res.map((j) => parse(j)!);
    },
    async take(workflow: string, runId: string, name?: string) {
      return parse(
        await redis.eval(
          TAKE,
          4,
          keys.signalInbox(workflow),
          keys.signalNames(workflow),
          keys.signalData(workflow),
          keys.signalTaken(workflow),
          name ?? '',
          runId,
        ),
      );
    },
    async peek(workflow: string, name?: string, except: readonly string[] = []) {
      return parse(await redis.eval(PEEK, 3, keys.signalInbox(workflow), keys.signalNames(workflow), keys.signalData(workflow), name ?? '', ...except));
    },
    async commit(workflow: string, runId: string) {
      return settle(workflow, runId, 'commit');
    },
    async restore(workflow: string, runId: string) {
      return settle(workflow, runId, 'restore');
    },
  });

  async function settle(workflow: string, runId: string, how: 'commit' | 'restore'): Promise<number> {
    return Number(
      await redis.eval(SETTLE, 4, keys.signalInbox(workflow), keys.signalData(workflow), keys.signalNames(workflow), keys.signalTaken(workflow), runId, how),
    );
  }
}
