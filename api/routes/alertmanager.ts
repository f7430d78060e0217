import { createRoute, z } from '@hono/zod-openapi';
import { ALERT_DEDUPE_TTL_MS, AlertmanagerPayloadSchema, alertEvents } from '../../engine/connect/alert-events.ts';
import { SOURCE_ALERTMANAGER, type EventOrigin } from '../../engine/domain/event.ts';
import type { EventBus } from '../../engine/events/bus.ts';
import type { OnceKeys } from '../../engine/ports/once-keys.ts';
import { UnavailableError, VeerError } from '../../engine/shared/errors.ts';
import { issuesOfError, validationErrorOf } from '../../engine/shared/issues.ts';
import type { RouteToken } from '../auth.ts';
import { errorResponse } from '../error-body.ts';
import { createRouter } from '../validation.ts';

export const ALERTMANAGER_WEBHOOK_PATH = '/api/v1/webhooks/alertmanager';

/** VEER_ALERTMANAGER_TOKEN as a token good for this route only, scope `run` (like POST /events). */
export function alertmanagerRouteTokens(token: string | undefined): RouteToken[] {
  return token ? [{ method: 'POST', path: ALERTMANAGER_WEBHOOK_PATH, name: 'alertmanager', scope: 'run', token }] : [];
}

export interface AlertmanagerRouteDeps {
  bus: EventBus;
  onceKeys: OnceKeys;
  /** How long a delivered alert is recognised as a repeat. Default ALERT_DEDUPE_TTL_MS (7 days). */
  dedupeTtlMs?: number;
}

const ORIGIN: EventOrigin = { source: SOURCE_ALERTMANAGER };

/**
 * Alertmanager's webhook receiver (`webhook_configs: [{ url: …/api/v1/webhooks/alertmanager,
 * send_resolved: true }]`): one event per alert (engine/connect/alert-events.ts). Alertmanager
 * re-sends a group every group_interval and repeat_interval; an alert already stored in the same
 * state (fingerprint + status + startsAt) is counted as a duplicate and stores nothing, so it
 * starts no new run. A failed append releases its claim and answers 503: Alertmanager retries
 * 5xx answers, and the retry stores what is missing (what was stored is then a duplicate).
 */
export function createAlertmanagerRoutes(deps: AlertmanagerRouteDeps) {
  const r = createRouter();
  const ttlMs = deps.dedupeTtlMs ?? ALERT_DEDUPE_TTL_MS;
  r.openapi(
    createRoute({
      method: 'post',
      path: '/webhooks/alertmanager',
      summary: "Alertmanager's webhook (payload version 4): one event per new alert, `alert.firing` or `alert.resolved`",
      description:
        'Each alert becomes an event (source `alertmanager`) tagged `alerts`, `alertname:<name>` and, from its `gateway` / `deployment` labels, ' +
        '`gateways:<g>` / `deployments:<d>`; value `{ labels, annotations, startsAt, endsAt, fingerprint, status, generatorURL }`. ' +
        "Alertmanager's repeats of an alert already stored in the same state store nothing (7 days). " +
        'Authorised by an API token with scope `run` or, when set, by VEER_ALERTMANAGER_TOKEN (good for this route only).',
      request: { body: { required: true, content: { 'application/json': { schema: AlertmanagerPayloadSchema } } } },
      responses: {
        200: {
          description: 'How many alerts were stored and how many were repeats; `events` are the ids of the stored ones',
          content: {
            'application/json': { schema: z.object({ stored: z.number().int(), duplicates: z.number().int(), events: z.array(z.string()) }) },
          },
        },
        400: errorResponse('Not an Alertmanager version 4 payload; `details.issues` names every field at fault (`alerts.0.fingerprint`); nothing is stored'),
        503: errorResponse('An alert could not be stored (or the dedupe keys not reached); Alertmanager retries, and the retry stores what is missing'),
      },
    }),
    async (c) => {
      const alerts = alertEvents(c.req.valid('json'));
      // Every event is checked as the bus will store it before the first is stored: a payload is taken whole or refused.
      const refused = alerts.flatMap(({ input }, i) => {
        try {
          deps.bus.preview(input, ORIGIN);
          return [];
        } catch (err) {
          return (issuesOfError(err) ?? [{ path: '(event)', message: (err as Error).message }]).map((x) => ({ ...x, path: `alerts.${i}.${x.path}` }));
        }
      });
      if (refused.length) throw validationErrorOf(refused, 'invalid Alertmanager payload');

      const events: string[] = [];
      let duplicates = 0;
      for (const [i, { onceKey, input }] of alerts.entries()) {
        if (!(await deps.onceKeys.claim(onceKey, ttlMs))) {
          duplicates++;
          continue;
        }
        try {
          events.push((await deps.bus.emit(input, ORIGIN)).id);
        } catch (err) {
          // Released so Alertmanager's retry is not taken for a repeat of an alert that was never stored.
          await deps.onceKeys.release(onceKey).catch(() => undefined);
          throw notStored(err, i, alerts.length, events.length);
        }
      }
      return c.json({ stored: events.length, duplicates, events }, 200);
    },
  );
  return r;
}

/** A failed append as a retryable 503 (Alertmanager retries only 5xx), keeping the store's own code when it has one. */
function notStored(err: unknown, index: number, total: number, stored: number): VeerError {
  if (err instanceof VeerError && err.retryable) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new UnavailableError('EVENTS.UNAVAILABLE', `alert ${index} of ${total} was not stored (${why}); Alertmanager retries the post`, {
    cause: err,
    details: { alert: index, stored },
  });
}
