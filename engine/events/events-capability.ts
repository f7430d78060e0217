import type { EventsCapability } from '../../workflows/types.ts';
import type { HostCapability } from '../sandbox/capabilities.ts';
import { ValidationError } from '../shared/errors.ts';
import type { EventBus } from './bus.ts';

const MAX_QUERY = 100;

/**
 * `ctx.events.emit({ tags, type, value })` publishes through the bus (so it reaches
 * triggers and streams), tagged `workflows:<name>` as its source; `ctx.events.query(filter)`
 * reads stored events (newest first, at most 100).
 */
export function createEventsCapability(bus: EventBus): HostCapability<EventsCapability> {
  return {
    emit: async (scope, input) => {
      const e = (input ?? {}) as { tags?: unknown; type?: unknown; value?: unknown };
      const tags = typeof e.tags === 'string' ? [e.tags] : Array.isArray(e.tags) ? e.tags : [];
      return bus.emit({ tags: [...tags, `workflows:${scope.workflow.name}`], ...(e.type !== undefined ? { type: e.type } : {}), value: e.value });
    },
    query: async (_scope, filter) => {
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
      const page = await bus.store.query({
        tags,
        type: typeof f.type === 'string' ? f.type : undefined,
        since: time(f.since, 'since'),
        until: time(f.until, 'until'),
        limit,
      });
      return page.events;
    },
  };
}
