import { z } from 'zod';
import { PermissionError, ValidationError } from '../shared/errors.ts';
import { validationErrorFromZod } from '../shared/issues.ts';
import { globMatches } from './glob.ts';

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
  /**
   * Who published it, set by the host from the path the event came in by, never by the
   * producer: `api`, `veer`, `alertmanager`, `workflow:<name>/<runId>` or `remote:<url>` (see EventOrigin).
   * Absent on events stored before Veer recorded provenance.
   */
  source?: string;
  /**
   * How many event-triggered runs led to it: 0 for API posts and Veer's own events, the
   * emitting run's trigger hops + 1 for what a run causes. Triggers stop past a limit (loops).
   * Absent means 0.
   */
  hops?: number;
}

/** An event before it is stored. */
export type NewEvent = Omit<VeerEvent, 'id'>;

/**
 * Where an event came from, as the host that accepted it knows it. `tags` are added by the
 * host after the reserved-tag check (the `workflows:<name>` tag of a script's emit).
 */
export interface EventOrigin {
  source: string;
  hops?: number;
  tags?: readonly string[];
}

export const SOURCE_API = 'api';
export const SOURCE_VEER = 'veer';
/** Alerts posted by Prometheus Alertmanager to POST /api/v1/webhooks/alertmanager. */
export const SOURCE_ALERTMANAGER = 'alertmanager';
export const VEER_ORIGIN: EventOrigin = { source: SOURCE_VEER };
export const workflowSource = (workflow: string, runId: string): string => `workflow:${workflow}/${runId}`;

/** `remote:<url>` without credentials a URL may carry (user:password@). */
export function remoteSource(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return `remote:${u.href}`;
  } catch {
    return `remote:${url}`;
  }
}

/**
 * Tag groups and type families only Veer itself may use: they name Veer's own resources
 * and lifecycle, so anyone else using them could impersonate Veer to a trigger (a forged
 * `run.failed`, an alert "about" a gateway). A remote installation's events keep theirs:
 * they arrive labelled `remote:<url>`, never as `veer`.
 */
export const RESERVED_TAG_GROUPS = ['workflows', 'runs', 'gateways', 'deployments'] as const;
export const RESERVED_TYPE_FAMILIES = ['run', 'gateway', 'deployment', 'workflow', 'trigger'] as const;

const reservedTag = (tag: string) => RESERVED_TAG_GROUPS.some((g) => tag === g || tag.startsWith(`${g}:`));
const reservedType = (type: string) => RESERVED_TYPE_FAMILIES.some((f) => type === f || type.startsWith(`${f}.`));

/**
 * Whether this source may use reserved tags and types. Alertmanager may: its events are built
 * by Veer itself (engine/connect/alert-events.ts) from the alert's `gateway`/`deployment`
 * labels, always of type `alert.*`, and an alert about a gateway must be taggable
 * `gateways:<name>` for a rollback trigger to find it. The route needs scope `run` (or
 * VEER_ALERTMANAGER_TOKEN), and triggers that act on gateways should list `alertmanager` in
 * their `sources` only when Alertmanager's senders are trusted to.
 */
export const mayUseReserved = (source: string): boolean => source === SOURCE_VEER || source === SOURCE_ALERTMANAGER || source.startsWith('remote:');

/**
 * Refuses (PermissionError, naming the tag or type) an event whose own tags or type are
 * reserved for Veer. A permission rather than a validation error: the event is well
 * formed, but the publisher lacks the authority to speak for Veer, and no rewording helps.
 */
export function assertNotReserved(event: Pick<NewEvent, 'tags' | 'type'>, source: string): void {
  if (mayUseReserved(source)) return;
  const tag = event.tags.find(reservedTag);
  if (tag !== undefined) {
    throw new PermissionError(
      `tag '${tag}' is reserved for Veer's own events (${RESERVED_TAG_GROUPS.map((g) => `${g}:*`).join(', ')}); publish under a tag of your own${tag.includes(':') ? `, e.g. 'alerts:${tag.slice(tag.indexOf(':') + 1)}'` : ''}`,
      { tag, source, path: `tags.${event.tags.indexOf(tag)}` },
    );
  }
  if (reservedType(event.type)) {
    throw new PermissionError(
      `event type '${event.type}' is reserved for Veer's own events (${RESERVED_TYPE_FAMILIES.map((f) => `${f}.*`).join(', ')}); use a type of your own`,
      { type: event.type, source, path: 'type' },
    );
  }
}

/**
 * A trigger's `sources`: `api`, `veer`, `alertmanager`, `*`, or `workflow:`/`remote:` followed by a name
 * glob (`workflow:deployer/*`, `remote:*`). Checked at upload so a typo (`API`) is a 400,
 * not a trigger that silently never fires.
 */
export const SourcePatternSchema = z
  .string()
  .min(1)
  .max(300)
  .refine((p) => p === SOURCE_API || p === SOURCE_VEER || p === SOURCE_ALERTMANAGER || p === '*' || /^(workflow|remote):\S+$/.test(p), {
    message: 'must be `api`, `veer`, `alertmanager`, `*`, `workflow:<glob>` or `remote:<glob>`',
  })
  .refine((p) => (p.match(/[*?]/g) ?? []).length <= 8, { message: 'at most 8 wildcards' });

/** Whether an event's source is accepted by a trigger's patterns (absent: every source). */
export function sourceAccepted(patterns: readonly string[] | undefined, source: string | undefined): boolean {
  if (!patterns) return true;
  return source !== undefined && patterns.some((p) => globMatches(p, source));
}

/** A tag or tag glob granted in `permissions.events` (what `ctx.events.query` may read). */
export const EventGrantSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.\-/:@*?]+$/, 'must be a tag or a tag glob (`alerts`, `canary:*`)')
  .refine((p) => (p.match(/[*?]/g) ?? []).length <= 8, { message: 'at most 8 wildcards' });

/** Hops of what a run causes: its trigger's hops (event triggers only) + 1. */
export function hopsCausedBy(trigger: { type: string }): number {
  const hops = (trigger as { hops?: unknown }).hops;
  return (trigger.type === 'event' && typeof hops === 'number' && Number.isInteger(hops) && hops > 0 ? hops : 0) + 1;
}

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
  // Provenance is the host's to say; a producer that claims one is refused, not ignored.
  for (const field of ['source', 'hops'] as const) {
    if (input !== null && typeof input === 'object' && Object.hasOwn(input, field)) {
      throw new ValidationError(`invalid event: ${field} is set by Veer from where the event came in, not by its producer`, [
        { path: field, message: 'is set by Veer; remove it' },
      ]);
    }
  }
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
