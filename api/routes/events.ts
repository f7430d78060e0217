import { createRoute, z } from '@hono/zod-openapi';
import type { EventStore } from '../../engine/ports/event-store.ts';
import type { EventBus } from '../../engine/events/bus.ts';
import { matchesFilter, SOURCE_API, type EventFilter, type VeerEvent } from '../../engine/domain/event.ts';
import { ValidationError } from '../../engine/shared/errors.ts';
import { errorResponse } from '../error-body.ts';
import { sseResponse, type SseItem, type SseSourceContext } from '../sse.ts';
import { createRouter } from '../validation.ts';

const EventBody = z
  .object({
    id: z.string(),
    tags: z.array(z.string()),
    type: z.string(),
    value: z.unknown(),
    timestamp: z.string(),
    source: z.string().optional().describe('who published it, set by Veer: `api`, `veer`, `workflow:<name>/<runId>`, `remote:<url>`'),
    hops: z.number().int().optional().describe('event-triggered runs between this event and its origin (absent: 0)'),
  })
  .openapi('Event');
// Documentation shape only: normalizeEvent validates (and explains) the real input.
const EventInputBody = z.object({
  tags: z.union([z.string(), z.array(z.string())]).describe('one tag or a list (at least one); `group:name` also counts as `group`'),
  type: z.string().optional().describe('letters, digits, _ . -; default `event`'),
  value: z.unknown().optional().describe('any JSON, at most 64 KiB'),
  timestamp: z.string().optional().describe('ISO-8601, at most 60 s in the future; default now'),
});
const tagParam = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .describe('repeatable; every tag must be on the event');
const timeParam = z.string().optional().describe('ISO-8601 or epoch milliseconds; bound on the event timestamp');

export interface EventRouteDeps {
  events: EventStore;
  bus: EventBus;
  /** Comment line interval on SSE streams (ms). Default 15 000. */
  heartbeatMs?: number;
  /** Reconnection delay suggested to SSE clients (`retry:` field, ms). Default 2000. */
  retryMs?: number;
  /** Live events buffered per slow SSE client before it is disconnected (it resumes with Last-Event-ID). Default 10 000. */
  maxQueue?: number;
}

function parseTime(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms))
    throw new ValidationError(`${name}: must be ISO-8601 or epoch milliseconds`, [{ path: name, message: 'must be ISO-8601 or epoch milliseconds' }]);
  return ms;
}

function filterFrom(tags: string[], type: string | undefined): EventFilter {
  return { tags: tags.filter(Boolean), ...(type ? { type } : {}) };
}

/**
 * The events a stream sends: with a Last-Event-ID, the stored ones after it (replay), then
 * live ones from the bus. It subscribes before replaying, so whatever is appended during
 * the replay is queued, and dropped when the replay already sent it: no gap, no duplicate.
 */
async function eventFeed(
  deps: EventRouteDeps,
  filter: EventFilter,
  maxQueue: number,
  { lastEventId, signal }: SseSourceContext,
): Promise<AsyncIterable<SseItem>> {
  const { events, bus } = deps;
  const queue: VeerEvent[] = [];
  let overflow = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const unsubscribe = await bus.subscribe((e) => {
    if (!matchesFilter(e, filter)) return;
    if (queue.length >= maxQueue) overflow = true;
    else queue.push(e);
    poke();
  });
  // The stream aborts the signal whenever it ends, also when it never started reading the feed.
  let subscribed = true;
  const release = () => {
    if (subscribed) unsubscribe();
    subscribed = false;
    poke();
  };
  if (signal.aborted) release();
  else signal.addEventListener('abort', release, { once: true });
  const message = (e: VeerEvent): SseItem => ({ id: e.id, data: JSON.stringify(e) });
  async function* feed(): AsyncGenerator<SseItem> {
    const replayed = new Set<string>();
    let lastReplayed: string | undefined;
    try {
      let cursor = lastEventId;
      while (cursor && !signal.aborted) {
        const page = await events.query({ ...filter, cursor, order: 'asc', limit: 500 });
        for (const e of page.events) {
          yield message(e);
          replayed.add(e.id);
          lastReplayed = e.id;
        }
        cursor = page.nextCursor;
      }
      while (!signal.aborted) {
        while (queue.length) {
          const e = queue.shift()!;
          if (replayed.has(e.id)) continue;
          // The feed is in append order: past the replay's last id it cannot repeat it.
          if (lastReplayed && events.compareIds(e.id, lastReplayed) > 0) {
            replayed.clear();
            lastReplayed = undefined;
          }
          yield message(e);
        }
        if (overflow) {
          yield { comment: 'too slow; reconnect with Last-Event-ID to resume' };
          return;
        }
        await new Promise<void>((res) => {
          wake = res;
          if (queue.length || signal.aborted) poke();
        });
      }
    } finally {
      signal.removeEventListener('abort', release);
      release();
    }
  }
  return feed();
}

export function createEventRoutes(deps: EventRouteDeps) {
  const r = createRouter();
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  const maxQueue = deps.maxQueue ?? 10_000;

  r.openapi(
    createRoute({
      method: 'post',
      path: '/events',
      summary: 'Publish an event (triggers workflows, reaches every stream)',
      request: { body: { required: true, content: { 'application/json': { schema: EventInputBody } } } },
      responses: {
        201: { description: 'The stored event (source `api`)', content: { 'application/json': { schema: EventBody } } },
        400: errorResponse('Invalid event; `details.issues` names every field at fault (also a `source` or `hops` the caller tried to set)'),
        403: errorResponse(
          "A tag (`workflows:*`, `runs:*`, `gateways:*`, `deployments:*`) or type (`run.*`, `gateway.*`, `deployment.*`, `workflow.*`, `trigger.*`) reserved for Veer's own events; `details` names it",
        ),
      },
    }),
    async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        throw new ValidationError('request body must be a JSON event: { "tags": [...], "type"?, "value"?, "timestamp"? }', [
          { path: '(body)', message: 'must be JSON' },
        ]);
      }
      // Provenance comes from the path the event came in by: whatever the body says, it is the API's.
      const stored = await deps.bus.emit(body, { source: SOURCE_API });
      return c.json(stored, 201);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/events',
      summary: 'Query stored events, newest first unless order=asc',
      request: {
        query: z.object({
          tag: tagParam,
          type: z.string().optional(),
          since: timeParam,
          until: timeParam,
          limit: z.coerce.number().int().min(1).max(1000).default(50),
          cursor: z.string().max(200).optional().describe('nextCursor of the previous page (or any event id): continue after it'),
          order: z.enum(['asc', 'desc']).default('desc'),
        }),
      },
      responses: {
        200: {
          description: 'A page of events; a nextCursor means more may follow',
          content: { 'application/json': { schema: z.object({ events: z.array(EventBody), nextCursor: z.string().optional() }) } },
        },
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await deps.events.query({
        tags: c.req.queries('tag') ?? [],
        type: q.type,
        since: parseTime('since', q.since),
        until: parseTime('until', q.until),
        limit: q.limit,
        cursor: q.cursor,
        order: q.order,
      });
      return c.json(page, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/events/stream',
      summary: 'Server-Sent Events: matching events as they are stored',
      description:
        'Each event is one SSE message (default event name `message`) whose id is the event id and whose data is the event JSON. ' +
        'Comment lines keep the connection alive. Reconnect with `Last-Event-ID` to receive what was missed, then live events, without gaps or duplicates.',
      request: { query: z.object({ tag: tagParam, type: z.string().optional() }) },
      responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } } },
    }),
    async (c) => {
      const filter = filterFrom(c.req.queries('tag') ?? [], c.req.valid('query').type);
      return sseResponse(c, (source) => eventFeed(deps, filter, maxQueue, source), { heartbeatMs, retryMs: deps.retryMs ?? 2000 });
    },
  );

  return r;
}
