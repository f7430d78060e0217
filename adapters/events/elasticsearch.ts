import { randomBytes } from 'node:crypto';
import type { NewEvent, VeerEvent } from '../../engine/domain/event.ts';
import { VeerError } from '../../engine/shared/errors.ts';
import { delay } from '../../engine/shared/wait.ts';
import { connectElasticsearch, type ElasticsearchConnection } from '../elasticsearch/client.ts';
import { elasticsearchCompat } from '../elasticsearch/compat.ts';
import { dailyIndex } from '../elasticsearch/daily-index.ts';
import { translateEsError } from '../elasticsearch/errors.ts';
import { partialResultsError } from '../elasticsearch/partial-results.ts';
import { indexTemplateOnce, TEMPLATE_PRIORITY } from '../elasticsearch/templates.ts';
import { ES_APPEND_BUDGET, ES_EVENTS_REFRESH_MS, minimumEsTailBufferMs } from './config.ts';
import {
  DEFAULT_QUERY_LIMIT,
  MAX_QUERY_LIMIT,
  type DocumentSearch,
  type EventPage,
  type EventQuery,
  type EventStore,
  type TailBatch,
  type TailOptions,
} from '../../engine/ports/event-store.ts';

export interface ElasticsearchEventStoreOptions extends ElasticsearchConnection {
  /** Indices are `<indexPrefix>-events-YYYY.MM.DD` (by append day, UTC). Default 'veer'. */
  indexPrefix?: string;
  /** Tail poll interval (ms). Default 1000. */
  pollMs?: number;
  /** How far back each poll looks again for documents that became visible late (ms). Default 30 000; never below minimumEsTailBufferMs() (adapters/events/config.ts), the lateness one append's own retries can cause. */
  bufferMs?: number;
  /** Ignore the newest `delayMs` of the window (ms). Default 0: de-duplication by id makes it unnecessary. */
  delayMs?: number;
  /** Documents per search page while tailing. Default 500. */
  pageSize?: number;
  /** Make each append searchable before it returns (`refresh=wait_for`, up to a refresh interval). Default false. */
  refreshOnAppend?: boolean;
  now?: () => number;
}

interface EsEventDoc extends NewEvent {
  id: string;
  /** When the store accepted it (epoch ms); the tail follows this, not the producer's timestamp. */
  ingestedAt: number;
}

/** Tail position: floor (head time, exclusive), watermark, and ids already delivered inside the overlap. */
interface EsCheckpoint {
  f: number;
  w: number;
  s: Record<string, number>;
}

/** Who published an event and how many triggered runs away it is (engine/domain/event.ts). */
const PROVENANCE_MAPPING = { source: { type: 'keyword' }, hops: { type: 'integer' } } as const;

/**
 * Events in Elasticsearch: daily indices under an index template (tags/type/id keyword,
 * timestamp date, value `enabled: false` — kept in _source, not indexed, so any JSON
 * shape fits). Ids are `<13-digit ms>-<counter>-<random>`, sortable as strings.
 * Tailing follows ElastAlert: every poll re-reads `[watermark − buffer, now − delay]`
 * on `ingestedAt` and drops ids already delivered, so a document that becomes visible
 * late (refresh, slow shard) is still delivered once — if it shows up within `bufferMs`.
 */
export function createElasticsearchEventStore(options: ElasticsearchEventStoreOptions): EventStore {
  const { client, close } = connectElasticsearch(options);
  const prefix = options.indexPrefix ?? 'veer';
  const pattern = `${prefix}-events-*`;
  const now = options.now ?? Date.now;
  const bufferMs = Math.max(options.bufferMs ?? 30_000, minimumEsTailBufferMs());
  const delayMs = options.delayMs ?? 0;
  const pollMs = options.pollMs ?? 1000;
  const pageSize = options.pageSize ?? 500;
  let counter = 0;
  const node = randomBytes(2).toString('hex');
  const compat = () => elasticsearchCompat(client, 'events');

  const ensureTemplate = indexTemplateOnce(
    client,
    'events',
    {
      name: `${prefix}-events`,
      index_patterns: [pattern],
      priority: TEMPLATE_PRIORITY.events,
      template: {
        // Explicit: the tail's minimum look-back counts on it.
        settings: { number_of_shards: 1, refresh_interval: `${ES_EVENTS_REFRESH_MS}ms` },
        mappings: {
          dynamic: 'strict',
          properties: {
            id: { type: 'keyword' },
            tags: { type: 'keyword' },
            type: { type: 'keyword' },
            timestamp: { type: 'date' },
            ingestedAt: { type: 'date', format: 'epoch_millis' },
            value: { type: 'object', enabled: false },
            ...PROVENANCE_MAPPING,
          },
        },
      },
    },
    // Today's index may predate provenance (strict mappings refuse unknown fields): add the fields to existing indices. Best effort: new indices get them from the template.
    (c) =>
      client.indices
        .putMapping({ index: pattern, allow_no_indices: true, ignore_unavailable: true, properties: PROVENANCE_MAPPING }, c.json)
        .catch(() => undefined),
  );

  const toEvent = (d: EsEventDoc): VeerEvent => ({
    id: d.id,
    tags: d.tags,
    type: d.type,
    value: d.value ?? null,
    timestamp: d.timestamp,
    ...(d.source !== undefined ? { source: d.source } : {}),
    ...(d.hops !== undefined ? { hops: d.hops } : {}),
  });

  async function search(body: Record<string, unknown>, op: string) {
    const c = await compat();
    let res;
    try {
      res = await client.search<EsEventDoc>({ index: pattern, ignore_unavailable: true, allow_no_indices: true, ...body }, c.json);
    } catch (err) {
      throw translateEsError('events', op, err);
    }
    // A partial answer could skip events the checkpoint would then move past, or show a page with holes.
    const partial = partialResultsError('events', op, res);
    if (partial) throw partial;
    return res;
  }

  return {
    kind: 'elasticsearch',

    async append(event) {
      await ensureTemplate();
      const ms = now();
      const id = `${String(ms).padStart(13, '0')}-${(counter++ % 2 ** 30).toString(36).padStart(6, '0')}-${node}`;
      const doc: EsEventDoc = {
        id,
        tags: event.tags,
        type: event.type,
        value: event.value,
        timestamp: event.timestamp,
        ...(event.source !== undefined ? { source: event.source } : {}),
        ...(event.hops !== undefined ? { hops: event.hops } : {}),
        ingestedAt: ms,
      };
      const c = await compat();
      try {
        await client.index(
          {
            index: dailyIndex(prefix, 'events', ms),
            id,
            document: doc,
            ...(options.refreshOnAppend ? { refresh: 'wait_for' as const } : {}),
          },
          // The budget the tail's look-back is sized for (minimumEsTailBufferMs), whatever the client's own settings.
          { ...c.json, requestTimeout: ES_APPEND_BUDGET.requestTimeoutMs, maxRetries: ES_APPEND_BUDGET.maxRetries },
        );
      } catch (err) {
        throw translateEsError('events', 'append (index)', err);
      }
      return toEvent(doc);
    },

    async query(q: EventQuery): Promise<EventPage> {
      const limit = Math.min(Math.max(q.limit ?? DEFAULT_QUERY_LIMIT, 1), MAX_QUERY_LIMIT);
      const desc = (q.order ?? 'desc') === 'desc';
      const filter: unknown[] = (q.tags ?? []).map((t) => ({ term: { tags: t } }));
      if (q.type) filter.push({ term: { type: q.type } });
      if (q.since !== undefined || q.until !== undefined) {
        filter.push({
          range: {
            timestamp: { ...(q.since !== undefined ? { gte: q.since } : {}), ...(q.until !== undefined ? { lte: q.until } : {}), format: 'epoch_millis' },
          },
        });
      }
      if (q.cursor) filter.push({ range: { id: desc ? { lt: q.cursor } : { gt: q.cursor } } });
      const res = await search(
        { query: { bool: { filter } }, sort: [{ id: { order: desc ? 'desc' : 'asc' } }], size: limit + 1, track_total_hits: false },
        'query (search)',
      );
      const hits = res.hits.hits.map((h) => toEvent(h._source as EsEventDoc));
      const events = hits.slice(0, limit);
      return hits.length > limit ? { events, nextCursor: events[events.length - 1].id } : { events };
    },

    async head() {
      // Events with ingestedAt > f are "after head"; waiting out the current millisecond
      // makes every append that starts after head() returns land past it.
      const t = now();
      for (let i = 0; i < 20 && now() <= t; i++) await delay(1);
      return JSON.stringify({ f: t, w: t, s: {} } satisfies EsCheckpoint);
    },

    tail(opts: TailOptions): AsyncIterable<TailBatch> {
      return {
        async *[Symbol.asyncIterator]() {
          let cp: EsCheckpoint;
          try {
            cp = JSON.parse(opts.from) as EsCheckpoint;
            if (typeof cp.w !== 'number') throw new Error('no watermark');
          } catch {
            throw new VeerError('EVENTS.INVALID', `event store (elasticsearch): '${opts.from.slice(0, 60)}' is not a checkpoint of this store`);
          }
          while (!opts.signal.aborted) {
            const upper = now() - delayMs;
            const lower = Math.max(cp.f + 1, cp.w - bufferMs);
            const seen = { ...cp.s };
            const fresh: EsEventDoc[] = [];
            let after: unknown[] | undefined;
            for (;;) {
              const res = await search(
                {
                  query: { bool: { filter: [{ range: { ingestedAt: { gte: lower, lte: upper, format: 'epoch_millis' } } }] } },
                  sort: [{ ingestedAt: { order: 'asc' } }, { id: { order: 'asc' } }],
                  size: pageSize,
                  track_total_hits: false,
                  ...(after ? { search_after: after } : {}),
                },
                'tail (search)',
              );
              const hits = res.hits.hits;
              for (const h of hits) {
                const d = h._source as EsEventDoc;
                if (seen[d.id] !== undefined) continue;
                seen[d.id] = d.ingestedAt;
                fresh.push(d);
              }
              if (hits.length < pageSize) break;
              after = hits[hits.length - 1].sort as unknown[];
            }
            // Ids older than the next window's lower bound can no longer come back.
            const keepFrom = upper - bufferMs;
            for (const [id, ms] of Object.entries(seen)) if (ms < keepFrom) delete seen[id];
            cp = { f: cp.f, w: Math.max(cp.w, upper), s: seen };
            if (fresh.length) yield { events: fresh.map(toEvent), checkpoint: JSON.stringify(cp) };
            await delay(pollMs, opts.signal).catch(() => undefined);
          }
        },
      };
    },

    compareIds(a, b) {
      return a < b ? -1 : a > b ? 1 : 0;
    },

    close,
  };
}

/** Searches any index for the Elasticsearch query trigger (engine/events/es-query-trigger.ts). */
export function createElasticsearchDocumentSearch(options: ElasticsearchConnection): DocumentSearch & { close(): Promise<void> } {
  const { client, close } = connectElasticsearch(options);
  return {
    async search(req) {
      const c = await elasticsearchCompat(client, 'document search');
      const op = `search of ${req.index}`;
      let res;
      try {
        res = await client.search<unknown>(
          {
            index: req.index,
            ignore_unavailable: true,
            allow_no_indices: true,
            query: { bool: { filter: [req.query, { range: { [req.timestampField]: { gte: req.from, lte: req.to, format: 'epoch_millis' } } }] } },
            // A pattern often spans indices without the user's field (empty, or other shapes): without
            // unmapped_type each such index fails its shard, and every poll would be partial.
            sort: [{ [req.timestampField]: { order: 'asc', unmapped_type: 'date' } }],
            size: req.size,
            track_total_hits: true,
          },
          c.json,
        );
      } catch (err) {
        throw translateEsError('document search', op, err);
      }
      // Partial: the trigger's poll fails (logged, retried next period) and its checkpoint stays where it was.
      const partial = partialResultsError('document search', op, res);
      if (partial) throw partial;
      const total = res.hits.total;
      return {
        total: typeof total === 'number' ? total : (total?.value ?? res.hits.hits.length),
        hits: res.hits.hits.map((h) => ({ id: h._id ?? '', index: h._index, source: h._source, time: Number(h.sort?.[0]) })),
      };
    },
    close,
  };
}
