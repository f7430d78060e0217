import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DocumentSearch } from '../ports/event-store.ts';
import { isElasticsearchTrigger, type ElasticsearchTrigger, type Workflow } from '../domain/workflow.ts';
import type { RunLauncher } from '../runs/launcher.ts';
import type { Logger } from '../shared/logger.ts';
import { delay } from '../shared/wait.ts';
import { createLeaderLock } from './leader-lock.ts';
import type { WorkflowSource } from './trigger-dispatcher.ts';

/**
 * Elasticsearch query triggers: for each workflow with `trigger.elasticsearch`, every
 * `every`, search `index` for `query` AND `timestampField` in the overlapping window
 * `[max(created, checkpoint − buffer), now − delay]`, drop documents already seen (ids
 * kept per workflow in a Redis sorted set for the window), and start ONE run with
 * `{ documents: first batchSize new docs, count, more }`. One replica polls (lease).
 * A document visible up to `bufferMs` late is still delivered, once.
 */
export interface ElasticsearchQueryTriggersOptions {
  redis: Redis;
  prefix: string;
  search: DocumentSearch;
  workflows: WorkflowSource;
  launcher: RunLauncher;
  logger: Logger;
  /** Look-back for late documents (ms). Default 60 000. */
  bufferMs?: number;
  /** Ignore the newest `delayMs` (ms). Default 0. */
  delayMs?: number;
  /** Scheduler tick (ms); polls happen at their `every` on this grid. Default 250. */
  tickMs?: number;
  /** New documents fetched per poll at most; the rest come with the next polls. Default 1000. */
  maxNewPerPoll?: number;
  lockTtlMs?: number;
  refreshMs?: number;
  now?: () => number;
}

export interface ElasticsearchQueryTriggers {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Polls one workflow now (tests, "run now"); returns whether a run was started. */
  poll(workflow: Workflow): Promise<boolean>;
  readonly leader: boolean;
}

interface Checkpoint {
  /** Floor: documents before the trigger was (re)configured are ignored. */
  f: number;
  w: number;
  /** Fingerprint of index+query+field; a change restarts from now. */
  fp: string;
}

export function parseEvery(every: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(every);
  if (!m) return 10_000;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3600_000 }[m[2] as 'ms'];
}

export function createElasticsearchQueryTriggers(options: ElasticsearchQueryTriggersOptions): ElasticsearchQueryTriggers {
  const { redis, search, launcher } = options;
  const log = options.logger.child({ component: 'es-triggers' });
  const now = options.now ?? Date.now;
  const bufferMs = options.bufferMs ?? 60_000;
  const delayMs = options.delayMs ?? 0;
  const maxNew = options.maxNewPerPoll ?? 1000;
  const lockTtlMs = options.lockTtlMs ?? 10_000;
  const lock = createLeaderLock(redis, `${options.prefix}:es-triggers:lock`, lockTtlMs);
  const cpKey = (n: string) => `${options.prefix}:wf:${n}:es-trigger:checkpoint`;
  const seenKey = (n: string) => `${options.prefix}:wf:${n}:es-trigger:seen`;
  const due = new Map<string, number>();
  let leader = false;
  let stop: AbortController | undefined;
  let loop: Promise<void> | undefined;

  const fingerprint = (t: ElasticsearchTrigger['elasticsearch']) =>
    createHash('sha1').update(JSON.stringify([t.index, t.query, t.timestampField])).digest('hex').slice(0, 12);

  async function poll(wf: Workflow): Promise<boolean> {
    if (!isElasticsearchTrigger(wf.trigger)) return false;
    const t = wf.trigger.elasticsearch;
    const fp = fingerprint(t);
    const upper = now() - delayMs;
    let cp = JSON.parse((await redis.get(cpKey(wf.name))) ?? 'null') as Checkpoint | null;
    if (!cp || cp.fp !== fp) {
      cp = { f: upper, w: upper, fp };
      await redis.multi().del(seenKey(wf.name)).set(cpKey(wf.name), JSON.stringify(cp)).exec();
      return false;
    }
    const lower = Math.max(cp.f + 1, cp.w - bufferMs);
    const seenCount = await redis.zcount(seenKey(wf.name), lower, '+inf');
    const res = await search.search({ index: t.index, query: t.query, timestampField: t.timestampField, from: lower, to: upper, size: Math.min(10_000, seenCount + maxNew) });
    const fresh: typeof res.hits = [];
    if (res.hits.length) {
      const scores = await redis.zmscore(seenKey(wf.name), ...res.hits.map((h) => `${h.index}/${h.id}`));
      res.hits.forEach((h, i) => {
        if (scores[i] === null && fresh.length < maxNew) fresh.push(h);
      });
    }
    let started = false;
    if (fresh.length) {
      const batch = fresh.slice(0, t.batchSize);
      const count = Math.max(fresh.length, res.total - seenCount);
      const key = createHash('sha1').update(fresh.map((h) => `${h.index}/${h.id}`).join('\n')).digest('hex').slice(0, 20);
      const result = await launcher.start(wf.name, {
        input: { documents: batch.map((h) => ({ _id: h.id, _index: h.index, ...(h.source as object) })), count, more: count - batch.length },
        trigger: { type: 'elasticsearch', index: t.index, count },
        dedupeKey: `es:${key}`,
      });
      // Skipped because a run is still going: keep the documents for the next poll.
      if (!result.started && result.reason === 'overlap') return false;
      started = result.started;
      const add: Array<string | number> = [];
      for (const h of fresh) add.push(Number.isFinite(h.time) ? h.time : upper, `${h.index}/${h.id}`);
      await redis.zadd(seenKey(wf.name), ...add);
    }
    await redis.zremrangebyscore(seenKey(wf.name), '-inf', `(${upper - bufferMs}`);
    await lock.setIfHolder(cpKey(wf.name), JSON.stringify({ ...cp, w: Math.max(cp.w, upper) } satisfies Checkpoint));
    return started;
  }

  async function tick(workflows: Workflow[]): Promise<void> {
    const t = now();
    for (const wf of workflows) {
      if (wf.enabled === false || !isElasticsearchTrigger(wf.trigger)) continue;
      if ((due.get(wf.name) ?? 0) > t) continue;
      due.set(wf.name, t + parseEvery(wf.trigger.elasticsearch.every));
      try {
        await poll(wf);
      } catch (err) {
        log.warn({ err, workflow: wf.name }, 'elasticsearch trigger poll failed; retrying next period');
      }
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    let workflows: Workflow[] = [];
    let listedAt = 0;
    while (!signal.aborted) {
      try {
        leader = leader ? await lock.renew() : await lock.acquire();
        if (leader) {
          if (now() - listedAt >= (options.refreshMs ?? 1000)) {
            workflows = await options.workflows.list();
            listedAt = now();
          }
          await tick(workflows);
        }
      } catch (err) {
        leader = false;
        log.warn({ err }, 'elasticsearch triggers: Redis unavailable');
      }
      await delay(leader ? options.tickMs ?? 250 : Math.max(50, lockTtlMs / 3), signal).catch(() => undefined);
    }
  }

  return {
    get leader() {
      return leader;
    },
    poll,
    async start() {
      if (stop) return;
      stop = new AbortController();
      loop = run(stop.signal);
    },
    async stop() {
      if (!stop) return;
      stop.abort();
      await loop;
      await lock.release().catch(() => undefined);
      leader = false;
      stop = undefined;
    },
  };
}
