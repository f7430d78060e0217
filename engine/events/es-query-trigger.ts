import { createHash } from 'node:crypto';
import { isElasticsearchTrigger, type ElasticsearchTrigger, type Workflow } from '../domain/workflow.ts';
import type { Coordination, Lease, Leadership } from '../ports/coordination.ts';
import type { DocumentSearch } from '../ports/event-store.ts';
import type { EsQueryCheckpoint, TriggerState } from '../ports/trigger-state.ts';
import type { RunLauncher } from '../runs/launcher.ts';
import type { Logger } from '../shared/logger.ts';
import { delay } from '../shared/wait.ts';
import type { WorkflowSource } from './trigger-dispatcher.ts';

/**
 * Elasticsearch query triggers: for each workflow with `trigger.elasticsearch`, every
 * `every`, search `index` for `query` AND `timestampField` in the overlapping window
 * `[max(created, checkpoint − buffer), now − delay]`, drop documents already seen (ids
 * kept per workflow in the trigger state for the window), and start ONE run with
 * `{ documents: first batchSize new docs, count, more }`. One replica polls (the
 * `es-triggers` lease).
 * A document visible up to `bufferMs` late is still delivered, once.
 * A search with partial results (failed or timed-out shards) rejects (the DocumentSearch
 * adapter raises EVENTS.UNAVAILABLE): the poll then fails before it marks anything seen or
 * moves the watermark, so the documents those shards hold come with a later poll.
 */
export interface ElasticsearchQueryTriggersOptions {
  coordination: Pick<Coordination, 'runAsLeader'>;
  triggers: Pick<TriggerState, 'esQuery'>;
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

/** The lease name of the Elasticsearch query triggers (one poller per installation). */
export const ES_TRIGGERS_LEASE = 'es-triggers';

export function parseEvery(every: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(every);
  if (!m) return 10_000;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3600_000 }[m[2] as 'ms'];
}

export function createElasticsearchQueryTriggers(options: ElasticsearchQueryTriggersOptions): ElasticsearchQueryTriggers {
  const { search, launcher } = options;
  const state = options.triggers.esQuery;
  const log = options.logger.child({ component: 'es-triggers' });
  const now = options.now ?? Date.now;
  const bufferMs = options.bufferMs ?? 60_000;
  const delayMs = options.delayMs ?? 0;
  const maxNew = options.maxNewPerPoll ?? 1000;
  const lockTtlMs = options.lockTtlMs ?? 10_000;
  const due = new Map<string, number>();
  let leadership: Leadership | undefined;
  /** The lease while leading; a poll outside leadership (tests) cannot move checkpoints. */
  let held: Lease | undefined;

  const fingerprint = (t: ElasticsearchTrigger['elasticsearch']) =>
    createHash('sha1')
      .update(JSON.stringify([t.index, t.query, t.timestampField]))
      .digest('hex')
      .slice(0, 12);

  async function poll(wf: Workflow): Promise<boolean> {
    if (!isElasticsearchTrigger(wf.trigger)) return false;
    const t = wf.trigger.elasticsearch;
    const fp = fingerprint(t);
    const upper = now() - delayMs;
    const cp = await state.checkpoint(wf.name);
    if (!cp || cp.fingerprint !== fp) {
      await state.reset(wf.name, { floor: upper, watermark: upper, fingerprint: fp });
      return false;
    }
    const lower = Math.max(cp.floor + 1, cp.watermark - bufferMs);
    const seenCount = await state.seenCount(wf.name, lower);
    const res = await search.search({
      index: t.index,
      query: t.query,
      timestampField: t.timestampField,
      from: lower,
      to: upper,
      size: Math.min(10_000, seenCount + maxNew),
    });
    const fresh: typeof res.hits = [];
    if (res.hits.length) {
      const seen = await state.seen(
        wf.name,
        res.hits.map((h) => `${h.index}/${h.id}`),
      );
      res.hits.forEach((h, i) => {
        if (!seen[i] && fresh.length < maxNew) fresh.push(h);
      });
    }
    let started = false;
    if (fresh.length) {
      const batch = fresh.slice(0, t.batchSize);
      const count = Math.max(fresh.length, res.total - seenCount);
      const key = createHash('sha1')
        .update(fresh.map((h) => `${h.index}/${h.id}`).join('\n'))
        .digest('hex')
        .slice(0, 20);
      const result = await launcher.start(wf.name, {
        input: { documents: batch.map((h) => ({ _id: h.id, _index: h.index, ...(h.source as object) })), count, more: count - batch.length },
        trigger: { type: 'elasticsearch', index: t.index, count },
        dedupeKey: `es:${key}`,
      });
      // Skipped because a run is still going (or the queue is full): keep the documents for the next poll.
      if (!result.started && (result.reason === 'overlap' || result.reason === 'queue_full')) return false;
      started = result.started;
      await state.markSeen(
        wf.name,
        fresh.map((h) => ({ id: `${h.index}/${h.id}`, time: Number.isFinite(h.time) ? h.time : upper })),
      );
    }
    await state.forgetSeenBefore(wf.name, upper - bufferMs);
    const next: EsQueryCheckpoint = { ...cp, watermark: Math.max(cp.watermark, upper) };
    if (held) await state.saveCheckpoint(wf.name, next, held);
    return started;
  }

  async function tick(workflows: Workflow[]): Promise<void> {
    const t = now();
    for (const wf of workflows) {
      // Disabled and paused workflows are polled too: the launcher refuses each new batch visibly (a skip record), and the batch is not retried.
      if (!isElasticsearchTrigger(wf.trigger)) continue;
      if ((due.get(wf.name) ?? 0) > t) continue;
      due.set(wf.name, t + parseEvery(wf.trigger.elasticsearch.every));
      try {
        await poll(wf);
      } catch (err) {
        log.warn({ err, workflow: wf.name }, 'elasticsearch trigger poll failed; retrying next period');
      }
    }
  }

  /** While leading: re-list the workflows every `refreshMs` and poll those that are due. */
  async function lead(signal: AbortSignal, lease: Lease): Promise<void> {
    held = lease;
    let workflows: Workflow[] = [];
    let listedAt = -Infinity;
    try {
      while (!signal.aborted) {
        if (now() - listedAt >= (options.refreshMs ?? 1000)) {
          workflows = await options.workflows.list();
          listedAt = now();
        }
        await tick(workflows);
        await delay(options.tickMs ?? 250, signal).catch(() => undefined);
      }
    } finally {
      held = undefined;
    }
  }

  return {
    get leader() {
      return leadership?.leader ?? false;
    },
    poll,
    async start() {
      if (leadership) return;
      leadership = options.coordination.runAsLeader(ES_TRIGGERS_LEASE, {
        ttlMs: lockTtlMs,
        work: lead,
        onError: (err) => log.warn({ err }, 'elasticsearch triggers: store unavailable'),
      });
    },
    async stop() {
      if (!leadership) return;
      await leadership.stop();
      leadership = undefined;
    },
  };
}
