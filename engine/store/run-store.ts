import type { Redis } from 'ioredis';
import type { LogEntry, LogLevel, Run, RunStatus } from '../domain/run.ts';
import { NotFoundError } from '../shared/errors.ts';
import type { Keys } from './keys.ts';

/**
 * Runs in Redis: `run:<id>` is a hash (JSON-encoded fields), `wf:<name>:runs` a sorted set
 * by queue time holding the newest `history` runs (older runs and their logs are deleted
 * when a new one is created), `run:<id>:log` a stream with ids `0-<seq>` so readers can
 * resume from any sequence number.
 */
export interface RunStore {
  create(run: Run): Promise<void>;
  get(id: string): Promise<Run | undefined>;
  require(id: string): Promise<Run>;
  list(workflow: string, options?: { limit?: number; offset?: number }): Promise<Run[]>;
  /** Applies `patch` only if the run's status is one of `from`; returns whether it did. */
  transition(id: string, from: readonly RunStatus[], patch: Partial<Run>): Promise<boolean>;
  appendLog(id: string, entry: Omit<LogEntry, 'seq'>): Promise<void>;
  readLog(id: string, options?: { afterSeq?: number; limit?: number }): Promise<LogEntry[]>;
  /** Blocks up to `blockMs` for entries after `afterSeq` on a dedicated connection. */
  waitLog(conn: Redis, id: string, afterSeq: number, blockMs: number): Promise<LogEntry[]>;
}

const CREATE_SCRIPT = `
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
local n = redis.call('ZCARD', KEYS[2])
local limit = tonumber(ARGV[3])
if n > limit then
  local old = redis.call('ZRANGE', KEYS[2], 0, n - limit - 1)
  for _, id in ipairs(old) do
    redis.call('DEL', KEYS[3] .. id, KEYS[3] .. id .. ':log', KEYS[3] .. id .. ':logseq')
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, n - limit - 1)
end
return n
`;

const TRANSITION_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return 0 end
cur = cjson.decode(cur)
for i = 2, tonumber(ARGV[1]) + 1 do
  if ARGV[i] == cur then
    redis.call('HSET', KEYS[1], unpack(ARGV, tonumber(ARGV[1]) + 2))
    return 1
  end
end
return 0
`;

// The cap is enforced here, not by the writer, so a flood from any source ends in one notice.
const APPEND_LOG_SCRIPT = `
local seq = redis.call('INCR', KEYS[2])
local max = tonumber(ARGV[1])
if seq <= max then
  redis.call('XADD', KEYS[1], '0-' .. seq, 'e', ARGV[2])
elseif seq == max + 1 then
  redis.call('XADD', KEYS[1], '0-' .. seq, 'e', ARGV[3])
end
return seq
`;

function encode(patch: Partial<Run>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) out.push(k, JSON.stringify(v));
  return out;
}

function decode(h: Record<string, string>): Run | undefined {
  if (!h.id) return undefined;
  const run: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) run[k] = JSON.parse(v);
  return run as unknown as Run;
}

function entriesOf(res: Array<[string, string[]]>): LogEntry[] {
  return res.map(([id, fields]) => ({ seq: Number(id.split('-')[1]), ...(JSON.parse(fields[1]) as Omit<LogEntry, 'seq'>) }));
}

export function createRunStore(options: { redis: Redis; keys: Keys; history: number; logMax: number }): RunStore {
  const { redis, keys, history, logMax } = options;
  const runKeyPrefix = keys.run('');
  return {
    async create(run) {
      await redis.eval(CREATE_SCRIPT, 3, keys.run(run.id), keys.workflowRuns(run.workflow), runKeyPrefix,
        Date.now(), run.id, history, ...encode(run));
    },
    async get(id) {
      return decode(await redis.hgetall(keys.run(id)));
    },
    async require(id) {
      const run = await this.get(id);
      if (!run) throw new NotFoundError('run', id);
      return run;
    },
    async list(workflow, opts = {}) {
      const offset = opts.offset ?? 0;
      const ids = await redis.zrevrange(keys.workflowRuns(workflow), offset, offset + (opts.limit ?? 50) - 1);
      const p = redis.pipeline();
      for (const id of ids) p.hgetall(keys.run(id));
      const res = (await p.exec()) ?? [];
      return res.map(([, h]) => decode(h as Record<string, string>)).filter((r): r is Run => !!r);
    },
    async transition(id, from, patch) {
      const res = await redis.eval(TRANSITION_SCRIPT, 1, keys.run(id), from.length, ...from, ...encode(patch));
      return res === 1;
    },
    async appendLog(id, entry) {
      const notice: Omit<LogEntry, 'seq'> = {
        time: entry.time, level: 'warn' as LogLevel, attempt: entry.attempt,
        message: `log cap of ${logMax} entries reached; later entries of this run are dropped (VEER_RUN_LOG_MAX)`,
      };
      await redis.eval(APPEND_LOG_SCRIPT, 2, keys.runLog(id), keys.runLogSeq(id), logMax, JSON.stringify(entry), JSON.stringify(notice));
    },
    async readLog(id, opts = {}) {
      const res = (await redis.xrange(keys.runLog(id), `0-${(opts.afterSeq ?? 0) + 1}`, '+', 'COUNT', opts.limit ?? 10_000)) as Array<[string, string[]]>;
      return entriesOf(res);
    },
    async waitLog(conn, id, afterSeq, blockMs) {
      const res = (await conn.xread('COUNT', 1000, 'BLOCK', blockMs, 'STREAMS', keys.runLog(id), `0-${afterSeq}`)) as Array<[string, Array<[string, string[]]>]> | null;
      return res ? entriesOf(res[0][1]) : [];
    },
  };
}
