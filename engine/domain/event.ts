import { z } from 'zod';
import { ValidationError } from '../shared/errors.ts';
import { validationErrorFromZod } from '../shared/issues.ts';

/**
 * The event model. Tags follow Vamp's convention: `group` and `group:name`; a stored
 * event carries its tags expanded (`deployments:shop` also adds `deployments`), so a
 * filter on either matches. `type` is one word (`event` by default); `value` any JSON.
 */
export interface VeerEvent {
  /** Assigned by the store; sortable in append order within one store. */
  id: string;
  tags: string[];
  type: string;
  value: unknown;
  /** ISO-8601; when it happened (the producer may set it, default: when it was appended). */
  timestamp: string;
}

/** An event before it is stored. */
export type NewEvent = Omit<VeerEvent, 'id'>;

/** Which events someone wants: all `tags` (after expansion) and, when set, this `type`. */
export interface EventFilter {
  tags?: string[];
  type?: string;
}

export const TAG_PATTERN = /^[A-Za-z0-9_.\-/]+(:[A-Za-z0-9_.\-/:@]+)?$/;
export const TYPE_PATTERN = /^[A-Za-z0-9_.\-]+$/;
export const MAX_TAGS = 64;
export const MAX_VALUE_BYTES = 64 * 1024;
/** Producers' clocks may run ahead a little; more than this is refused (keeps time queries bounded). */
export const MAX_FUTURE_SKEW_MS = 60_000;

export const TagSchema = z.string().min(1).max(200).regex(TAG_PATTERN, 'must be `name` or `group:name` (letters, digits, _ . - / ; no spaces)');
export const TypeSchema = z.string().min(1).max(100).regex(TYPE_PATTERN, 'must be letters, digits, _ . or -');

export const EventInputSchema = z
  .object({
    tags: z
      .union([TagSchema.transform((t) => [t]), z.array(TagSchema).min(1, 'at least one tag is required').max(MAX_TAGS)])
      .describe('one tag or a list; `group:name` tags also count as `group`'),
    type: TypeSchema.default('event'),
    value: z.unknown().optional().describe('any JSON value, at most 64 KiB'),
    timestamp: z.string().datetime({ offset: true }).optional().describe('ISO-8601; default: now'),
  })
  .strict();

/** `['deployments:shop', 'health']` → `['deployments:shop', 'deployments', 'health']` (order kept, no duplicates). */
export function expandTags(tags: readonly string[]): string[] {
  const out = new Set<string>();
  for (const tag of tags) {
    out.add(tag);
    const i = tag.indexOf(':');
    if (i > 0) out.add(tag.slice(0, i));
  }
  return [...out];
}

/** Every filter tag is on the (expanded) event and the type matches when given. */
export function matchesFilter(event: Pick<VeerEvent, 'tags' | 'type'>, filter: EventFilter): boolean {
  if (filter.type && filter.type !== event.type) return false;
  if (!filter.tags || filter.tags.length === 0) return true;
  const have = new Set(expandTags(event.tags));
  return filter.tags.every((t) => have.has(t));
}

/**
 * Validates and normalises what a producer sent (API body, script, lifecycle emitter,
 * remote stream). Throws ValidationError with one issue per bad field.
 */
export function normalizeEvent(input: unknown, now: number = Date.now()): NewEvent {
  const parsed = EventInputSchema.safeParse(input);
  if (!parsed.success) throw validationErrorFromZod(parsed.error, { root: '(event)', title: 'invalid event' });
  const e = parsed.data;
  const value = e.value === undefined ? null : e.value;
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    throw new ValidationError('invalid event: value must be JSON', [{ path: 'value', message: 'must be JSON' }]);
  }
  if (Buffer.byteLength(json) > MAX_VALUE_BYTES) {
    throw new ValidationError(`invalid event: value is larger than ${MAX_VALUE_BYTES} bytes as JSON`, [
      { path: 'value', message: `must be at most ${MAX_VALUE_BYTES} bytes as JSON` },
    ]);
  }
  const ms = e.timestamp ? Date.parse(e.timestamp) : now;
  if (ms > now + MAX_FUTURE_SKEW_MS) {
    throw new ValidationError("invalid event: timestamp is more than 60 s in the future; check the producer's clock", [
      { path: 'timestamp', message: 'must not be more than 60 s in the future' },
    ]);
  }
  return { tags: expandTags(e.tags), type: e.type, value: JSON.parse(json), timestamp: new Date(ms).toISOString() };
}
