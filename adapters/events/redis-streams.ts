import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { NewEvent, VeerEvent } from '../../engine/domain/event.ts';
import { MAX_FUTURE_SKEW_MS } from '../../engine/domain/event.ts';
import { UnavailableError, VeerError } from '../../engine/shared/errors.ts';
import {
  DEFAULT_QUERY_LIMIT,
  MAX_QUERY_LIMIT,
  type EventPage,
  type EventQuery,
  type EventStore,
  type TailBatch,
  type TailOptions,
} from '../../engine/ports/event-store.ts';
import { createKeys } from '../redis/keys.ts';
import { readStream } from '../redis/stream-reader.ts';

export interface RedisStreamEventStoreOptions {
  /** A shared client; the store creates a blocking duplicate per tail. */
  redis?: Redis;
  /** Used when `redis` is not given; the store then owns (and closes) the client. */
  url?: string;
  /** Key prefix; the stream is `<prefix>:events`. */
  prefix: string;
  /** Approximate stream length kept (XADD MAXLEN ~); older events are trimmed. Default 100 000. */
  maxLen?: number;
  /** Entries a query may scan per call before returning a partial page with a cursor. Default 5000. */
  maxScan?: number;
  /** How long one XREAD blocks before looping (ms). Default 1000. */
  blockMs?: number;
  /** Events per tail batch. Default 500. */
  batchSize?: number;
}

// Filtering runs inside Redis so a tag/type query moves only matching events over the wire.
// Fields per entry: g = "\31tag\31tag\31" (expanded tags), t = type, ms = timestamp, d = event JSON.
const QUERY_LUA = `
local key, desc = KEYS[1], ARGV[1] == 'desc'
local lo, hi = ARGV[2], ARGV[3]
local limit, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local typ, since, untl = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local tags = {}
for i = 9, #ARGV do tags[#tags + 1] = '\\31' .. ARGV[i] .. '\\31' end
local out, scanned, last = {}, 0, ''
while scanned < budget do
  local n = math.min(200, budget - scanned)
  local rows
  if desc then rows = redis.call('XREVRANGE', key, hi, lo, 'COUNT', n) else rows = redis.call('XRANGE', key, lo, hi, 'COUNT', n) end
  for _, row in ipairs(rows) do
    scanned = scanned + 1
    last = row[1]
    local f, g, t, ms, d = row[2], '', '', 0, ''
    for j = 1, #f, 2 do
      local k = f[j]
      if k == 'g' then g = f[j + 1] elseif k == 't' then t = f[j + 1] elseif k == 'ms' then ms = tonumber(f[j + 1]) elseif k == 'd' then d = f[j + 1] end
    end
    local ok = (typ == '' or t == typ) and (since == nil or ms >= since) and (untl == nil or ms <= untl)
    if ok then
      for _, tag in ipairs(tags) do
        if not string.find(g, tag, 1, true) then ok = false break end
      end
    end
    if ok then
      out[#out + 1] = { row[1], d }
      if #out >= limit then return { out, last } end
    end
  end
  if #rows < n then return { out, '' } end
  if desc then hi = '(' .. last else lo = '(' .. last end
end
return { out, last }
`;

const SEP = '\x1f';

function parseId(id: string): [number, number] {
  const [ms, seq] = id.split('-');
  return [Number(ms), Number(seq ?? 0)];
}

export function compareStreamIds(a: string, b: string): number {
  const [am, as] = parseId(a);
  const [bm, bs] = parseId(b);
  return am - bm || as - bs;
}

function toEvent(id: string, json: string): VeerEvent {
  const d = JSON.parse(json) as NewEvent;
  return { id, tags: d.tags, type: d.type, value: d.value, timestamp: d.timestamp, ...provenance(d) };
}

/** Source and hops as stored; events from before provenance have neither. */
function provenance(d: Pick<NewEvent, 'source' | 'hops'>): Pick<NewEvent, 'source' | 'hops'> {
  return { ...(d.source !== undefined ? { source: d.source } : {}), ...(d.hops !== undefined ? { hops: d.hops } : {}) };
}

function fieldsToEvent(id: string, fields: string[]): VeerEvent {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === 'd') return toEvent(id, fields[i + 1]);
  return { id, tags: [], type: 'event', value: null, timestamp: new Date(parseId(id)[0]).toISOString() };
}

export function createRedisStreamEventStore(options: RedisStreamEventStoreOptions): EventStore {
  const owned = !options.redis;
  const redis = options.redis ?? new Redis(options.url ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2, lazyConnect: false });
  const key = createKeys(options.prefix).events;
  const maxLen = options.maxLen ?? 100_000;
  const maxScan = options.maxScan ?? 5000;
  const blockMs = options.blockMs ?? 1000;
  const batchSize = options.batchSize ?? 500;
  const sha = createHash('sha1').update(QUERY_LUA).digest('hex');
  const blocking = new Set<Redis>();

  const unavailable = (op: string, err: unknown) =>
    new UnavailableError(
      'EVENTS.UNAVAILABLE',
      `event store (redis, stream ${key}): ${op} failed: Redis is unreachable (${(err as Error).message}); check that it runs at VEER_REDIS_URL`,
      { cause: err },
    );

  async function runQuery(args: string[]): Promise<[Array<[string, string]>, string]> {
    try {
      return (await redis.evalsha(sha, 1, key, ...args)) as [Array<[string, string]>, string];
    } catch (err) {
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
      return (await redis.eval(QUERY_LUA, 1, key, ...args)) as [Array<[string, string]>, string];
    }
  }

  return {
    kind: 'redis',

    async append(event) {
      const ms = Date.parse(event.timestamp);
      const json = JSON.stringify({ tags: event.tags, type: event.type, value: event.value, timestamp: event.timestamp, ...provenance(event) });
      try {
        const id = await redis.xadd(
          key,
          'MAXLEN',
          '~',
          String(maxLen),
          '*',
          'g',
          SEP + event.tags.join(SEP) + SEP,
          't',
          event.type,
          'ms',
          String(ms),
          'd',
          json,
        );
        return { id: id as string, tags: event.tags, type: event.type, value: event.value, timestamp: event.timestamp, ...provenance(event) };
      } catch (err) {
        throw unavailable('append (XADD)', err);
      }
    },

    async query(q: EventQuery): Promise<EventPage> {
      const limit = Math.min(Math.max(q.limit ?? DEFAULT_QUERY_LIMIT, 1), MAX_QUERY_LIMIT);
      const desc = (q.order ?? 'desc') === 'desc';
      // Timestamps may lie in the past but at most MAX_FUTURE_SKEW_MS ahead of the append,
      // so nothing appended before since − skew can match: the scan stops there.
      let lo = q.since !== undefined ? String(Math.max(0, q.since - MAX_FUTURE_SKEW_MS)) : '-';
      let hi = '+';
      if (q.cursor) {
        if (desc) hi = '(' + q.cursor;
        else if (lo === '-' || compareStreamIds(q.cursor, lo) >= 0) lo = '(' + q.cursor;
      }
      const args = [
        desc ? 'desc' : 'asc',
        lo,
        hi,
        String(limit),
        String(maxScan),
        q.type ?? '',
        q.since !== undefined ? String(q.since) : '',
        q.until !== undefined ? String(q.until) : '',
        ...(q.tags ?? []),
      ];
      try {
        const [rows, last] = await runQuery(args);
        const events = rows.map(([id, d]) => toEvent(id, d));
        return last ? { events, nextCursor: last } : { events };
      } catch (err) {
        if (/Invalid stream ID/i.test((err as Error).message)) {
          throw new VeerError('EVENTS.INVALID', `event store (redis): cursor '${q.cursor}' is not an event id of this store`, {
            details: { cursor: q.cursor },
          });
        }
        throw unavailable('query (XRANGE script)', err);
      }
    },

    async head() {
      try {
        const rows = (await redis.xrevrange(key, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
        return rows.length ? rows[0][0] : '0-0';
      } catch (err) {
        throw unavailable('head (XREVRANGE)', err);
      }
    },

    tail(opts: TailOptions): AsyncIterable<TailBatch> {
      return {
        async *[Symbol.asyncIterator]() {
          // XREAD BLOCK holds its connection, so each tail gets its own.
          const reader = readStream({
            connect: () => {
              const conn = redis.duplicate({ maxRetriesPerRequest: 2 });
              blocking.add(conn);
              conn.once('end', () => blocking.delete(conn));
              return conn;
            },
            key,
            from: opts.from,
            count: batchSize,
            blockMs,
            signal: opts.signal,
          });
          try {
            for await (const entries of reader) {
              yield { events: entries.map(([id, fields]) => fieldsToEvent(id, fields)), checkpoint: entries[entries.length - 1][0] };
            }
          } catch (err) {
            if (opts.signal.aborted) return;
            throw unavailable('tail (XREAD)', err);
          }
        },
      };
    },

    compareIds: compareStreamIds,

    async close() {
      for (const c of blocking) c.disconnect();
      blocking.clear();
      if (owned) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
