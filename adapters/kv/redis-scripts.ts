import { createHash } from 'node:crypto';

/**
 * Lua scripts of the Redis KV store. Each write runs as one script, so the value, the
 * index, the revision counter and the change-log entry move together or not at all.
 *
 * Layout under a base key B (a hash tag like `{veer:kv}`, so every key lands in one
 * cluster slot); KEYS[1] = B, and every other name is derived from it inside the script
 * so an ioredis `keyPrefix` applies consistently:
 *   B:rev  store-wide revision counter (INCR on every change)
 *   B:k:<key>  hash {v = value, r = revision}; PEXPIREd when written with a TTL
 *   B:idx  sorted set (all scores 0) of live keys, for prefix listing with ZRANGEBYLEX
 *   B:ttl  sorted set key -> expiry (ms, server clock), for reaping with delete events
 *   B:log  stream of changes; entry id = `<revision>-0`, so a position is a revision
 * ARGV[1] is the approximate MAXLEN of the log.
 */
const PRELUDE = `
local base = KEYS[1]
local maxlen = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function append(kind, key, value)
  local rev = string.format('%d', redis.call('INCR', base .. ':rev'))
  if kind == 'put' then
    redis.call('XADD', base .. ':log', 'MAXLEN', '~', maxlen, rev .. '-0', 't', 'put', 'k', key, 'v', value)
  else
    redis.call('XADD', base .. ':log', 'MAXLEN', '~', maxlen, rev .. '-0', 't', 'del', 'k', key)
  end
  return rev
end
-- Keys whose TTL passed are removed with a delete event, so watchers see expiry.
local function reap()
  local expired = redis.call('ZRANGEBYSCORE', base .. ':ttl', '-inf', now_ms(), 'LIMIT', 0, 100)
  for _, k in ipairs(expired) do
    redis.call('ZREM', base .. ':ttl', k)
    redis.call('ZREM', base .. ':idx', k)
    redis.call('DEL', base .. ':k:' .. k)
    append('del', k)
  end
  return #expired
end
`;

/** ARGV: maxlen, key, value, ifRevision|'' , ttlMs|''. Returns {1, rev} or {0, actualRev}. */
const PUT = `${PRELUDE}
reap()
local key = ARGV[2]
local vk = base .. ':k:' .. key
local cur = redis.call('HGET', vk, 'r') or '0'
if ARGV[4] ~= '' and ARGV[4] ~= cur then return {0, cur} end
local rev = append('put', key, ARGV[3])
redis.call('HSET', vk, 'v', ARGV[3], 'r', rev)
redis.call('ZADD', base .. ':idx', 0, key)
if ARGV[5] ~= '' then
  local ttl = tonumber(ARGV[5])
  redis.call('PEXPIRE', vk, ttl)
  redis.call('ZADD', base .. ':ttl', now_ms() + ttl, key)
else
  redis.call('PERSIST', vk)
  redis.call('ZREM', base .. ':ttl', key)
end
return {1, rev}
`;

/** ARGV: maxlen, key, ifRevision|''. Returns {1, existed(0|1)} or {0, actualRev}. */
const DELETE = `${PRELUDE}
reap()
local key = ARGV[2]
local vk = base .. ':k:' .. key
local cur = redis.call('HGET', vk, 'r') or '0'
if ARGV[3] ~= '' and ARGV[3] ~= cur then return {0, cur} end
if cur == '0' then return {1, 0} end
redis.call('DEL', vk)
redis.call('ZREM', base .. ':idx', key)
redis.call('ZREM', base .. ':ttl', key)
append('del', key)
return {1, 1}
`;

/** ARGV: maxlen, prefix. Returns {position, key1, value1, rev1, ...}, one consistent snapshot. */
const LIST = `${PRELUDE}
reap()
local p = ARGV[2]
local keys
if p == '' then
  keys = redis.call('ZRANGEBYLEX', base .. ':idx', '-', '+')
else
  -- '0' is the byte after '/', so this range is exactly the keys below p/.
  keys = redis.call('ZRANGEBYLEX', base .. ':idx', '[' .. p .. '/', '(' .. p .. '0')
  if redis.call('ZSCORE', base .. ':idx', p) then table.insert(keys, 1, p) end
end
local out = { redis.call('GET', base .. ':rev') or '0' }
for _, k in ipairs(keys) do
  local vr = redis.call('HMGET', base .. ':k:' .. k, 'v', 'r')
  if vr[1] then
    table.insert(out, k)
    table.insert(out, vr[1])
    table.insert(out, vr[2])
  end
end
return out
`;

/** ARGV: maxlen. Returns how many expired keys were removed. */
const REAP = `${PRELUDE}
return reap()
`;

export interface LuaScript {
  lua: string;
  sha: string;
}

function script(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

export const scripts = { put: script(PUT), delete: script(DELETE), list: script(LIST), reap: script(REAP) };
