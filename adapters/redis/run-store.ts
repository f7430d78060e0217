import type { Redis } from 'ioredis';
import { FINAL_STATUSES, type LogEntry, type Run, type RunStatus } from '../../engine/domain/run.ts';
import type { Quarantine } from '../../engine/ports/quarantine.ts';
import { DURATION_BUCKETS } from '../../engine/ports/run-stats.ts';
import type { RunStore } from '../../engine/ports/run-store.ts';
import { NotFoundError, ValidationError } from '../../engine/shared/errors.ts';
import { guarded, translateRedisError } from './errors.ts';
import type { RedisKeys } from './keys.ts';
import { createStreamFanout } from './stream-fanout.ts';
import type { StreamEntry } from './stream-reader.ts';

/**
 * Runs in Redis: `run:<id>` is a hash (JSON-encoded fields), `wf:<name>:runs` a sorted set
 * by queue time holding the newest `history` runs (older runs and their logs are deleted
 * when a new one is created), `run:<id>:log` a stream with ids `0-<seq>` so readers can
 * resume from any sequence number. Dedupe claims are `wf:<name>:dedupe:<key>` (SET NX EX),
 * the active set `wf:<name>:active`. `runs:all` holds every workflow's kept runs by the same
 * score, trimmed with them. Every log follower of the process shares one blocking connection
 * (stream-fanout.ts).
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

// KEYS: run, workflow runs, run key prefix, active set, all runs. ARGV: now, id, history, active ('1' = join it), fields.
const CREATE_SCRIPT = `
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[5], ARGV[1], ARGV[2])
if ARGV[4] == '1' then redis.call('SADD', KEYS[4], ARGV[2]) end
local n = redis.call('ZCARD', KEYS[2])
local limit = tonumber(ARGV[3])
if n > limit then
  local old = redis.call('ZRANGE', KEYS[2], 0, n - limit - 1)
  for _, id in ipairs(old) do
    redis.call('DEL', KEYS[3] .. id, KEYS[3] .. id .. ':log', KEYS[3] .. id .. ':logseq')
    redis.call('ZREM', KEYS[5], id)
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

// KEYS: run, workflow key prefix. ARGV: attempt start (JSON), engine id (JSON), quarantine key
// suffix. The record as it was, read and moved to running in one step: attempts + 1, the first
// start kept, an attempt found running (its engine stopped) counted in interrupted; and beside
// it the quarantine of the run's version ('' if none), so the start needs no read of its own.
// The quarantine key is built from the record's workflow here, under the prefix's hash tag (the
// same slot, as CREATE_SCRIPT's run keys). Final or absent records are returned untouched.
const BEGIN_SCRIPT = `
local h = redis.call('HGETALL', KEYS[1])
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= '"queued"' and status ~= '"running"' then return {h, ''} end
local q = ''
local wf = redis.call('HGET', KEYS[1], 'workflow')
local version = redis.call('HGET', KEYS[1], 'workflowVersion')
if wf and version then
  q = redis.call('HGET', KEYS[2] .. cjson.decode(wf) .. ARGV[3], version) or ''
end
local attempts = (tonumber(redis.call('HGET', KEYS[1], 'attempts')) or 0) + 1
redis.call('HSET', KEYS[1], 'status', '"running"', 'attempts', attempts, 'attemptStartedAt', ARGV[1], 'engineId', ARGV[2])
if redis.call('HEXISTS', KEYS[1], 'startedAt') == 0 then redis.call('HSET', KEYS[1], 'startedAt', ARGV[1]) end
if status == '"running"' then
  redis.call('HSET', KEYS[1], 'interrupted', (tonumber(redis.call('HGET', KEYS[1], 'interrupted')) or 0) + 1)
end
return {h, q}
`;

// KEYS: run, active set, stats, durations. ARGV: run id, from count, from…, status, seconds,
// bucket count, buckets…, fields. The final transition, the active set left (either way) and
// the run counted in the stats when applied, in one step (the counts in run-stats.ts' layout).
const FINISH_SCRIPT = `
redis.call('SREM', KEYS[2], ARGV[1])
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return 0 end
cur = cjson.decode(cur)
local nfrom = tonumber(ARGV[2])
local ok = false
for i = 3, nfrom + 2 do if ARGV[i] == cur then ok = true end end
if not ok then return 0 end
local nb = tonumber(ARGV[nfrom + 5])
redis.call('HSET', KEYS[1], unpack(ARGV, nfrom + 6 + nb))
redis.call('HINCRBY', KEYS[3], ARGV[nfrom + 3], 1)
local s = tonumber(ARGV[nfrom + 4])
for i = nfrom + 6, nfrom + 5 + nb do
  if s <= tonumber(ARGV[i]) then redis.call('HINCRBY', KEYS[4], 'le_' .. ARGV[i], 1) end
end
redis.call('HINCRBY', KEYS[4], 'count', 1)
redis.call('HINCRBYFLOAT', KEYS[4], 'sum', ARGV[nfrom + 4])
return 1
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

/** A page of `listAll` at most; a status filter may scan this many ids per call before answering short. */
const LIST_MAX = 200;
const SCAN_MAX = 2000;

interface Position {
  score: number;
  id: string;
}

// Score and id: runs queued in the same millisecond share a score, so the id orders them.
const encodeCursor = (at: Position) => Buffer.from(`${at.score}:${at.id}`).toString('base64url');

function decodeCursor(cursor: string): Position {
  const text = Buffer.from(cursor, 'base64url').toString();
  const colon = text.indexOf(':');
  const score = Number(text.slice(0, colon));
  if (colon <= 0 || !Number.isSafeInteger(score) || colon === text.length - 1)
    throw new ValidationError('before: not a cursor this API returned (use `next` of the previous page)', [
      { path: 'before', message: 'not a cursor this API returned' },
    ]);
  return { score, id: text.slice(colon + 1) };
}

const pairs = (flat: string[]): Position[] => {
  const out: Position[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: flat[i], score: Number(flat[i + 1]) });
  return out;
};

/**
 * The ids after `at` in `key` (newest first), at most `count`. Paged by score, not by offset,
 * so runs created or trimmed meanwhile shift nothing; the few ids sharing `at`'s score are
 * read whole (they come in reverse id order) and cut at `at.id`.
 */
async function idsAfter(redis: Redis, key: string, at: Position | undefined, count: number): Promise<Position[]> {
  if (!at) return pairs(await redis.zrevrangebyscore(key, '+inf', '-inf', 'WITHSCORES', 'LIMIT', 0, count));
  const res =
    (await redis.pipeline().zrevrangebyscore(key, at.score, at.score).zrevrangebyscore(key, `(${at.score}`, '-inf', 'WITHSCORES', 'LIMIT', 0, count).exec()) ??
    [];
  for (const [err] of res) if (err) throw err;
  const ties = (res[0][1] as string[]).filter((id) => id < at.id).map((id) => ({ id, score: at.score }));
  return [...ties, ...pairs(res[1][1] as string[])].slice(0, count);
}

async function listRunsPage(
  redis: Redis,
  keys: RedisKeys,
  opts: { limit?: number; before?: string; status?: RunStatus[]; workflow?: string },
): Promise<{ runs: Run[]; next?: string }> {
  const limit = Math.min(Math.max(1, Math.trunc(opts.limit ?? 50)), LIST_MAX);
  const key = opts.workflow === undefined ? keys.runsAll : keys.workflowRuns(opts.workflow);
  const wanted = opts.status?.length ? new Set(opts.status.map((s) => JSON.stringify(s))) : undefined;
  let at = opts.before === undefined ? undefined : decodeCursor(opts.before);
  const runs: Run[] = [];
  const gone: string[] = [];
  let scanned = 0;
  let more = true;
  while (runs.length < limit && scanned < SCAN_MAX && more) {
    // Unfiltered, every id read is (nearly always) answered; filtered, read wider, statuses first.
    const count = Math.min(wanted ? LIST_MAX : limit - runs.length, SCAN_MAX - scanned);
    const batch = await idsAfter(redis, key, at, count);
    more = batch.length === count;
    let candidates = batch;
    if (wanted) {
      const p = redis.pipeline();
      for (const e of batch) p.hget(keys.run(e.id), 'status');
      const statuses = ((await p.exec()) ?? []).map(([err, v]) => {
        if (err) throw err;
        return v as string | null;
      });
      batch.forEach((e, i) => statuses[i] === null && gone.push(e.id));
      // Only as many as fill the page: the rest are read again from the cursor next time.
      candidates = [];
      for (let i = 0; i < batch.length && candidates.length < limit - runs.length; i++) if (wanted.has(statuses[i] ?? '')) candidates.push(batch[i]);
      const last = candidates.length === limit - runs.length ? candidates[candidates.length - 1] : batch[batch.length - 1];
      if (last !== batch[batch.length - 1]) more = true;
      scanned += last ? batch.indexOf(last) + 1 : 0;
      at = last ?? at;
    } else {
      scanned += batch.length;
      at = batch[batch.length - 1] ?? at;
    }
    if (candidates.length === 0) continue;
    const p = redis.pipeline();
    for (const e of candidates) p.hgetall(keys.run(e.id));
    const records = (await p.exec()) ?? [];
    records.forEach(([err, h], i) => {
      if (err) throw err;
      const run = decode(h as Record<string, string>);
      if (!run) gone.push(candidates[i].id);
      // A record finished between the status read and this one: still filtered by what it is now.
      else if (!wanted || wanted.has(JSON.stringify(run.status))) runs.push(run);
    });
  }
  // Ids whose record went (a run deleted outside the trim): dropped as they are met.
  if (gone.length) await redis.zrem(key, ...gone);
  return { runs, ...(more && at ? { next: encodeCursor(at) } : {}) };
}

export function createRedisRunStore(options: RedisRunStoreOptions): RunStore {
  const { redis, keys, history, logMax } = options;
  const runKeyPrefix = keys.run('');
  // `<prefix>:wf:<name>:quarantine` split around the name (names are [a-z0-9-]: no NUL).
  const [workflowKeyPrefix, quarantineSuffix] = keys.workflowQuarantine('\u0000').split('\u0000');
  const followBlockMs = options.followBlockMs ?? 1000;
  const followers = createStreamFanout({ connect: options.connect, command: redis, count: 1000, blockMs: followBlockMs });

  const store: RunStore = guarded('run store', {
    async create(run: Run, opts: { active?: boolean } = {}) {
      await redis.eval(
        CREATE_SCRIPT,
        5,
        keys.run(run.id),
        keys.workflowRuns(run.workflow),
        runKeyPrefix,
        keys.workflowActive(run.workflow),
        keys.runsAll,
        Date.now(),
        run.id,
        history,
        opts.active ? '1' : '0',
        ...encode(run),
      );
    },
    async begin(id: string, attempt: { at: string; engineId: string }) {
      const [flat, quarantine] = (await redis.eval(
        BEGIN_SCRIPT,
        2,
        keys.run(id),
        workflowKeyPrefix,
        JSON.stringify(attempt.at),
        JSON.stringify(attempt.engineId),
        quarantineSuffix,
      )) as [string[], string];
      const h: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]] = flat[i + 1];
      return { run: decode(h), quarantine: quarantine === '' ? null : (JSON.parse(quarantine) as Quarantine) };
    },
    async finish(id: string, workflow: string, from: readonly string[], patch: Partial<Run> & Pick<Run, 'status' | 'durationMs'>) {
      const res = await redis.eval(
        FINISH_SCRIPT,
        4,
        keys.run(id),
        keys.workflowActive(workflow),
        keys.stats,
        keys.durations,
        id,
        from.length,
        ...from,
        patch.status,
        (patch.durationMs ?? 0) / 1000,
        DURATION_BUCKETS.length,
        ...DURATION_BUCKETS,
        ...encode(patch),
      );
      return res === 1;
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
    listAll: (opts = {}) => listRunsPage(redis, keys, opts),
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
