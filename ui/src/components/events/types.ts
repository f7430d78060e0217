import type { paths } from '../../../../cli/api/schema.ts';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;

/** A stored event (GET /api/v1/events, and each message of /api/v1/events/stream). */
export type VeerEvent = Json<paths['/api/v1/events']['get']['responses'][200]>['events'][number];

/** Whether a stream message looks like an event (the stream is ours, but a bad frame must not break the page). */
export function isEvent(v: unknown): v is VeerEvent {
  const e = v as Partial<VeerEvent> | null;
  return typeof e === 'object' && e !== null && typeof e.id === 'string' && Array.isArray(e.tags) && typeof e.type === 'string';
}
