import type { EventsCapability } from '../../workflows/types.ts';
import { hopsCausedBy, workflowSource, type EventOrigin, type VeerEvent } from '../domain/event.ts';
import { globMatches } from '../domain/glob.ts';
import type { EventQuery } from '../ports/event-store.ts';
import type { RunStore } from '../ports/run-store.ts';
import type { HostCapability, RunScope } from '../sandbox/capabilities.ts';
import { ValidationError } from '../shared/errors.ts';
import type { EventBus } from './bus.ts';

const MAX_QUERY = 100;
/** Events a query with `permissions.events` grants may look through (newest first) before it answers with what it found. */
const SCAN_PAGE = 200;
const SCAN_PAGES = 5;

export interface EventsCapabilityOptions {
  /**
   * Where the calling run's trigger is read from, for the hop count of what it emits (a run
   * started by an event with hops h emits events with hops h + 1). Without it every emit
   * counts as one hop from a manual run, and trigger loops are not broken.
   */
  runs?: Pick<RunStore, 'get'>;
}

/**
 * What a script's `ctx.events.emit(input)` hands the bus: the event and the origin (without
 * hops) it is published as. Dry runs preview the same pair, so they are refused alike.
 */
export function scriptEmission(scope: RunScope, input: unknown): { event: Record<string, unknown>; origin: EventOrigin } {
  const e = (input ?? {}) as Record<string, unknown>;
  const tags = typeof e.tags === 'string' ? [e.tags] : Array.isArray(e.tags) ? e.tags : [];
  const event: Record<string, unknown> = { tags, value: e.value };
  if (e.type !== undefined) event.type = e.type;
  // A claimed provenance is handed on so the bus refuses it by name rather than dropping it silently.
  for (const claimed of ['source', 'hops']) if (Object.hasOwn(e, claimed)) event[claimed] = e[claimed];
  // Other workflows and notifiers read events: a secret the run read is `***` in them.
  const redacted = scope.secrets ? scope.secrets.redact(event) : event;
  return { event: redacted, origin: { source: workflowSource(scope.workflow.name, scope.runId), tags: [`workflows:${scope.workflow.name}`] } };
}

/**
 * `ctx.events.emit({ tags, type, value })` publishes through the bus (so it reaches triggers
 * and streams) as `workflow:<name>/<run>`, tagged `workflows:<name>` by the host; the tags and
 * types reserved for Veer are refused (PermissionError). `ctx.events.query(filter)` reads
 * stored events (newest first, at most 100) that the workflow may see: its own (tagged
 * `workflows:<name>`) and those with a tag granted in `permissions.events`.
 */
export function createEventsCapability(bus: EventBus, options: EventsCapabilityOptions = {}): HostCapability<EventsCapability> {
  async function hopsOf(scope: RunScope): Promise<number> {
    const run = await options.runs?.get(scope.runId);
    return hopsCausedBy(run?.trigger ?? { type: 'manual' });
  }

  return {
    emit: async (scope, input) => {
      const { event, origin } = scriptEmission(scope, input);
      return bus.emit(event, { ...origin, hops: await hopsOf(scope) });
    },
    query: async (scope, filter) => {
      const f = (filter ?? {}) as { tags?: unknown; type?: unknown; since?: unknown; until?: unknown; limit?: unknown };
      const tags = typeof f.tags === 'string' ? [f.tags] : Array.isArray(f.tags) ? f.tags.map(String) : [];
      const time = (v: unknown, name: string) => {
        if (v === undefined) return undefined;
        const ms = typeof v === 'number' ? v : Date.parse(String(v));
        if (!Number.isFinite(ms))
          throw new ValidationError(`ctx.events.query: ${name} must be ISO-8601 or epoch ms`, [{ path: name, message: 'must be ISO-8601 or epoch ms' }]);
        return ms;
      };
      const limit = Math.min(Math.max(Number(f.limit ?? 20) || 20, 1), MAX_QUERY);
      const query: EventQuery = { tags, type: typeof f.type === 'string' ? f.type : undefined, since: time(f.since, 'since'), until: time(f.until, 'until') };
      return visibleEvents(bus, scope, query, limit);
    },
  };
}

/**
 * The events of `query` this workflow may read. Other workflows' events (their run errors,
 * their emits) are theirs: a script sees its own, tagged `workflows:<name>` by the host,
 * and what `permissions.events` grants by tag or glob.
 */
async function visibleEvents(bus: EventBus, scope: RunScope, query: EventQuery, limit: number): Promise<VeerEvent[]> {
  const own = `workflows:${scope.workflow.name}`;
  const grants = scope.workflow.permissions.events ?? [];
  const granted = (tag: string) => tag === own || grants.some((g) => globMatches(g, tag));
  const visible = (e: VeerEvent) => e.tags.some(granted);
  const tags = query.tags ?? [];
  // A filter tag that is itself visible makes every match visible: one store query. With no grants only own events are visible: the store filters them.
  if (grants.length === 0 && !tags.some(granted)) tags.push(own);
  if (tags.some(granted)) return (await bus.store.query({ ...query, tags, limit })).events;
  // Grants the store cannot express (globs, alternatives): look through the newest matches, boundedly.
  const out: VeerEvent[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < SCAN_PAGES && out.length < limit; page++) {
    const res = await bus.store.query({ ...query, tags, limit: SCAN_PAGE, cursor });
    for (const e of res.events) if (out.length < limit && visible(e)) out.push(e);
    if (!res.nextCursor) break;
    cursor = res.nextCursor;
  }
  return out;
}
