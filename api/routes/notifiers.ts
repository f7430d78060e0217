import { createRoute, z } from '@hono/zod-openapi';
import { urlShapeOf } from '../../engine/connect/url-secrets.ts';
import { DELIVERIES_KEPT, NOTIFIERS_CHANGED } from '../../engine/connect/notifier-worker.ts';
import { DRY_RUN_OUTCOMES, DryRunQuerySchema, jsonEqual, sameSecret, type DryRunOutcome } from '../../engine/domain/dry-run-put.ts';
import { MAX_TAGS, TagSchema } from '../../engine/domain/event.ts';
import { MetadataFields, metadataOf } from '../../engine/domain/metadata.ts';
import { NameSchema } from '../../engine/domain/workflow.ts';
import type { EventStore } from '../../engine/ports/event-store.ts';
import type { Notifier, NotifierSpec, NotifierStore } from '../../engine/ports/notifier-store.ts';
import { NotFoundError, ValidationError } from '../../engine/shared/errors.ts';
import { errorResponse } from '../error-body.ts';
import { createRouter } from '../validation.ts';

/** `run.failed`, or a glob of types: `run.*`, `alert.*`. */
const TypeGlobSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.\-*?]+$/, 'must be an event type or a glob of types (`run.*`): letters, digits, _ . - * ?');

function urlProblem(v: string): string | undefined {
  let u: URL;
  try {
    u = new URL(urlShapeOf(v));
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `must be http:// or https://, not ${u.protocol}//`;
  if (u.username || u.password) return 'must not carry user:password@ (put a token in the path or query, or set `secret`)';
  return undefined;
}

const UrlSchema = z
  .string()
  .max(2048)
  .superRefine((v, ctx) => {
    const why = urlProblem(v);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  })
  .describe(
    'where events are POSTed: http:// or https:// (loopback included). `{{secret:<name>}}` is filled in with that secret at delivery (a Slack hook path), so the definition carries only its name',
  );

const EventsSchema = z
  .object({
    tags: z.array(TagSchema).max(MAX_TAGS).default([]).describe('every tag must be on the event (a `group:name` tag also matches `group`); none: any'),
    types: z.array(TypeGlobSchema).max(50).optional().describe('the event type must match one (globs: `run.*`); absent or empty: any'),
  })
  .strict();

const PutBody = z
  .object({
    url: UrlSchema,
    events: EventsSchema,
    format: z.enum(['json', 'slack']).default('json').describe('`json`: `{ notifier, event }`; `slack`: `{ text }` for a Slack incoming webhook'),
    secret: z
      .string()
      .min(16, 'must be at least 16 characters')
      .max(512)
      .nullable()
      .optional()
      .describe('HMAC-SHA256 key, write-only; omitted: the current one is kept; null: removed'),
    ...MetadataFields,
    // What a GET answers may be PUT back: these are accepted and ignored (`name` must agree with the path).
    name: z.string().optional(),
    hasSecret: z.boolean().optional(),
    createdAt: z.string().optional(),
    updatedAt: z.string().optional(),
  })
  .strict();

const NotifierBody = z
  .object({
    name: z.string(),
    url: z.string(),
    events: z.object({ tags: z.array(z.string()), types: z.array(z.string()).optional() }),
    format: z.enum(['json', 'slack']),
    hasSecret: z.boolean().describe('whether deliveries are signed; the secret itself is never returned'),
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Notifier');

const NotifierDryRun = z
  .object({
    outcome: z.enum(DRY_RUN_OUTCOMES).describe('what the PUT would do (an omitted `secret` keeps the current one, so it compares equal)'),
    object: NotifierBody.partial({ createdAt: true, updatedAt: true }).describe(
      'the notifier as GET would answer after the PUT: `createdAt` absent when it would be created, `updatedAt` only when unchanged',
    ),
  })
  .openapi('NotifierDryRun', { description: 'The answer of PUT ?dryRun=true: nothing was stored' });

const DeliveryBody = z
  .object({
    eventId: z.string(),
    eventType: z.string(),
    attempt: z.number().int().describe('1 for the first try of this event'),
    status: z.enum(['delivered', 'retrying', 'failed']).describe('`retrying`: this try failed and another follows; `failed`: given up, the notifier moved on'),
    httpStatus: z.number().int().optional().describe('absent when there was no answer (timeout, refused)'),
    error: z.string().optional(),
    ms: z.number(),
    at: z.string(),
  })
  .openapi('NotifierDelivery');

const NameParam = z.object({ name: NameSchema });
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const nameErrors = { 400: errorResponse('Invalid name; `details.issues` names the field'), 404: errorResponse('No such notifier') };

/** What the API shows: everything but the secret. */
const view = <N extends NotifierSpec>({ secret, ...n }: N) => ({ ...n, ...metadataOf(n), hasSecret: typeof secret === 'string' && secret !== '' });

/** What a dry-run PUT would do: the secret compared in constant time, everything else as plain JSON. */
function outcomeOf(current: Notifier | undefined, next: NotifierSpec): DryRunOutcome {
  if (!current) return 'created';
  const { name: _n, createdAt: _c, updatedAt: _u, secret, ...rest } = current;
  const { secret: nextSecret, ...nextRest } = next;
  // Both compared, whatever the first says: no early exit to time.
  const sameSpec = jsonEqual({ ...rest, ...metadataOf(rest) }, nextRest);
  const sameKey = sameSecret(secret || undefined, nextSecret);
  return sameSpec && sameKey ? 'unchanged' : 'updated';
}

const PUT_DESCRIPTION = `Veer POSTs every matching event to \`url\`, one request per event, in order, from one engine at a time.

A new notifier starts at the event store's head: events stored before it was created are not sent. Replacing a notifier keeps its position.

**Headers.** \`X-Veer-Delivery: <notifier>/<event id>\` is the same on every retry of an event: a receiver that already handled that id should answer 2xx and do nothing (delivery is at-least-once: an engine that dies after sending and before recording it sends that event again). \`X-Veer-Event-Type\` names the event's type.

**Signature** (when \`secret\` is set), in the manner of Stripe's and GitHub's webhooks: \`X-Veer-Timestamp: <unix seconds>\` and \`X-Veer-Signature: sha256=<hex>\`, where hex is HMAC-SHA256 with the secret as key over the string \`<timestamp>.<raw body>\`. To verify: compute the HMAC over the timestamp header, a dot and the body bytes exactly as received, compare it with the header in constant time (e.g. \`crypto.timingSafeEqual\`), and refuse timestamps more than a few minutes away from your clock (replays).

**Retries.** 5xx, 408, 429, timeouts (VEER_NOTIFY_TIMEOUT_MS) and connection errors are retried with exponential backoff from VEER_NOTIFY_BACKOFF_MS, capped at VEER_NOTIFY_MAX_BACKOFF_MS, up to VEER_NOTIFY_ATTEMPTS tries in all; other 4xx and redirects are not retried. Then the event is recorded as \`failed\` and the notifier goes on with the next one. Each notifier is delivered on its own: one slow or failing receiver never delays another. Every attempt is listed by GET /notifiers/{name}/deliveries.`;

export interface NotifierRouteDeps {
  notifiers: NotifierStore;
  /** Where a new notifier starts. */
  events: Pick<EventStore, 'head'>;
  /** Tells the delivering engine to re-read the notifiers now (it also does every second or so). */
  signal?: (channel: string, message: string) => Promise<void>;
}

/** Notifiers: Veer events delivered as webhooks (JSON or Slack), with their recent delivery attempts. */
export function createNotifierRoutes(deps: NotifierRouteDeps) {
  const r = createRouter();
  const changed = (name: string) => deps.signal?.(NOTIFIERS_CHANGED, name).catch(() => undefined);

  r.openapi(
    createRoute({
      method: 'get',
      path: '/notifiers',
      summary: 'List notifiers (secrets are never shown: `hasSecret` says whether one is set)',
      responses: { 200: json(z.object({ notifiers: z.array(NotifierBody) }), 'Notifiers by name') },
    }),
    async (c) => c.json({ notifiers: (await deps.notifiers.list()).map(view) }, 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/notifiers/{name}',
      summary: 'Get a notifier',
      request: { params: NameParam },
      responses: { 200: json(NotifierBody, 'The notifier'), ...nameErrors },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const n = await deps.notifiers.get(name);
      if (!n) throw new NotFoundError('notifier', name);
      return c.json(view(n), 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'put',
      path: '/notifiers/{name}',
      summary: 'Create or replace a notifier: matching events are POSTed to its URL as JSON or Slack messages',
      description: PUT_DESCRIPTION,
      request: { params: NameParam, query: DryRunQuerySchema, body: { required: true, content: { 'application/json': { schema: PutBody } } } },
      responses: {
        200: json(z.union([NotifierBody, NotifierDryRun]), 'Replaced, or with ?dryRun=true a NotifierDryRun'),
        201: json(NotifierBody, 'Created'),
        400: errorResponse('Invalid input; `details.issues` names each field'),
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const { name: bodyName, hasSecret: _h, createdAt: _c, updatedAt: _u, secret, ...spec } = c.req.valid('json');
      if (bodyName !== undefined && bodyName !== name) {
        throw new ValidationError(`name: the body names notifier '${bodyName}' but the path says '${name}'`, [
          { path: 'name', message: 'differs from the path' },
        ]);
      }
      const dryRun = c.req.valid('query').dryRun === 'true';
      const current = secret === undefined || dryRun ? await deps.notifiers.get(name) : undefined;
      // Write-only: a GET body PUT back (which has no secret) keeps the one already set.
      const kept = secret === undefined ? current?.secret : (secret ?? undefined);
      const events = { tags: spec.events.tags, ...(spec.events.types?.length ? { types: spec.events.types } : {}) };
      const next: NotifierSpec = {
        url: spec.url,
        events,
        format: spec.format,
        ...(kept ? { secret: kept } : {}),
        labels: spec.labels,
        annotations: spec.annotations,
      };
      if (dryRun) {
        const outcome = outcomeOf(current, next);
        const object = current && outcome === 'unchanged' ? current : { name, ...next, ...(current ? { createdAt: current.createdAt } : {}) };
        return c.json({ outcome, object: view(object) }, 200);
      }
      const { notifier, created } = await deps.notifiers.put(name, next, new Date().toISOString(), await deps.events.head());
      await changed(name);
      return c.json(view(notifier), created ? 201 : 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'delete',
      path: '/notifiers/{name}',
      summary: 'Delete a notifier, its position and its delivery history (an attempt under way is not retried)',
      request: { params: NameParam },
      responses: { 204: { description: 'Deleted' }, ...nameErrors },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      if (!(await deps.notifiers.delete(name))) throw new NotFoundError('notifier', name);
      await changed(name);
      return c.body(null, 204);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/notifiers/{name}/deliveries',
      summary: `Recent delivery attempts, newest first (the last ${DELIVERIES_KEPT} are kept): status, HTTP status and error of each try`,
      request: { params: NameParam, query: z.object({ limit: z.coerce.number().int().min(1).max(DELIVERIES_KEPT).default(50) }) },
      responses: { 200: json(z.object({ deliveries: z.array(DeliveryBody) }), 'Attempts'), ...nameErrors },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const { limit } = c.req.valid('query');
      if (!(await deps.notifiers.get(name))) throw new NotFoundError('notifier', name);
      return c.json({ deliveries: await deps.notifiers.deliveries(name, limit) }, 200);
    },
  );

  return r;
}
