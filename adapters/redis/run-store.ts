import type { Redis } from 'ioredis';
import { FINAL_STATUSES, type LogEntry, type Run } from '../../engine/domain/run.ts';
import type { RunStore } from '../../engine/ports/run-store.ts';
import { NotFoundError } from '../../engine/shared/errors.ts';
import { guarded, translateRedisError } from './errors.ts';
import type { RedisKeys } from './keys.ts';
import { createStreamFanout } from './stream-fanout.ts';
import type { StreamEntry } from './stream-reader.ts';

/**
 * Runs in Redis: `run:<id>` is a hash (JSON-encoded fields), `wf:<name>:runs` a sorted set
 * by queue time holding the newest `history` runs (older runs and their logs are deleted
 * when a new one is created), `run:<id>:log` a stream with ids `0-<seq>` so readers can
 * resume from any sequence number. Dedupe claims are `wf:<name>:dedupe:<key>` (SET NX EX),
 * the active set `wf:<name>:active`. Every log follower of the process shares one blocking
 * connection (stream-fanout.ts).
 */
export interface RedisRunStoreOptions {
  redis: Redis;
  /** Makes the one blocking connection all log followers of this store share (XREAD BLOCK holds it). */
  connect: () => Redis;
  keys: RedisKeys;
  history: number;
  logMax: number;
  /** How long the shared XREAD blocks, and how often a follower re-checks its run (ms). Default 1000. */
  followBlockMs?: number;
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

function entriesOf(res: StreamEntry[]): LogEntry[] {
  return res.map(([id, fields]) => ({ seq: Number(id.split('-')[1]), ...(JSON.parse(fields[1]) as Omit<LogEntry, 'seq'>) }));
}

export function createRedisRunStore(options: RedisRunStoreOptions): RunStore {
  const { redis, keys, history, logMax } = options;
  const runKeyPrefix = keys.run('');
  const followBlockMs = options.followBlockMs ?? 1000;
  const followers = createStreamFanout({ connect: options.connect, command: redis, count: 1000, blockMs: followBlockMs });

  const store: RunStore = guarded('run store', {
    async create(run: Run) {
      await redis.eval(CREATE_SCRIPT, 3, keys.run(run.id), keys.workflowRuns(run.workflow), runKeyPrefix, Date.now(), run.id, history, ...encode(run));
    },
    async get(id: string) {
      return decode(await redis.hgetall(keys.run(id)));
    },
    async require(id: string) {
      const run = decode(await redis.hgetall(keys.run(id)));
      if (!run) throw new NotFoundError('run', id);
      return run;
    },
    async list(workflow: string, opts: { limit?: number; offset?: number } = {}) {
      const offset = opts.offset ?? 0;
      const ids = await redis.zrevrange(keys.workflowRuns(workflow), offset, offset + (opts.limit ?? 50) - 1);
      const p = redis.pipeline();
      for (const id of ids) p.hgetall(keys.run(id));
      const res = (await p.exec()) ?? [];
      return res.map(([, h]) => decode(h as Record<string, string>)).filter((r): r is Run => !!r);
    },
    async transition(id: string, from: readonly string[], patch: Partial<Run>) {
      const res = await redis.eval(TRANSITION_SCRIPT, 1, keys.run(id), from.length, ...from, ...encode(patch));
      return res === 1;
    },
    async appendLog(id: string, entry: Omit<LogEntry, 'seq'>) {
      const notice: Omit<LogEntry, 'seq'> = {
        time: entry.time,
        level: 'warn',
        attempt: entry.attempt,
        message: `log cap of ${logMax} entries reached; later entries of this run are dropped (VEER_RUN_LOG_MAX)`,
      };
      await redis.eval(APPEND_LOG_SCRIPT, 2, keys.runLog(id), keys.runLogSeq(id), logMax, JSON.stringify(entry), JSON.stringify(notice));
    },
    async readLog(id: string, opts: { afterSeq?: number; limit?: number } = {}) {
      const res = (await redis.xrange(keys.runLog(id), `0-${(opts.afterSeq ?? 0) + 1}`, '+', 'COUNT', opts.limit ?? 10_000)) as StreamEntry[];
      return entriesOf(res);
    },
    followLog: (id: string, fromSeq: number, opts: { signal: AbortSignal }) => followLog(id, fromSeq, opts.signal),
    async claimDedupe(workflow: string, key: string, runId: string, ttlMs: number) {
      const k = keys.dedupe(workflow, key);
      if ((await redis.set(k, runId, 'PX', ttlMs, 'NX')) === 'OK') return { claimed: true as const };
      return { claimed: false as const, runId: (await redis.get(k)) ?? undefined };
    },
    async addActive(workflow: string, runId: string) {
      await redis.sadd(keys.workflowActive(workflow), runId);
    },
    async removeActive(workflow: string, runId: string) {
      await redis.srem(keys.workflowActive(workflow), runId);
    },
    async activeIds(workflow: string) {
      return redis.smembers(keys.workflowActive(workflow));
    },
  });

  /** Existing entries, then each new batch; ends once the run is final and its log drained. */
  async function* followLog(id: string, fromSeq: number, signal: AbortSignal): AsyncGenerator<LogEntry[]> {
    let seq = fromSeq;
    const final = async () => FINAL_STATUSES.has((await store.require(id)).status);
    async function* drain(): AsyncGenerator<LogEntry[]> {
      for (;;) {
        const rest = await store.readLog(id, { afterSeq: seq });
        if (rest.length === 0 || signal.aborted) return;
        seq = rest[rest.length - 1].seq;
        yield rest;
      }
    }
    if (signal.aborted) return;
    if (await final()) return yield* drain();
    try {
      for await (const raw of followers.follow(keys.runLog(id), `0-${seq}`, { signal, idleMs: followBlockMs })) {
        if (raw.length) {
          const batch = entriesOf(raw);
          seq = batch[batch.length - 1].seq;
          yield batch;
        }
        if (signal.aborted) return;
        if (await final()) return yield* drain();
      }
    } catch (err) {
      if (signal.aborted) return;
      throw translateRedisError('run store.followLog', err);
    }
  }

  return store;
}
