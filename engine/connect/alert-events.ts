import { z } from 'zod';
import { MAX_VALUE_BYTES, TAG_PATTERN } from '../domain/event.ts';
import { NameSchema } from '../domain/workflow.ts';
import { validationErrorFromZod, validationErrorOf, type Issue } from '../shared/issues.ts';

/**
 * Alertmanager's webhook payload (version 4,
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config) → Veer events, one
 * per alert. Pure: the route (api/routes/alertmanager.ts) claims each alert's dedupe key and
 * publishes.
 *
 * Each event: type `alert.firing` / `alert.resolved` (the alert's own status, not the group's),
 * tags `alerts`, `alertname:<name>`, and `gateways:<g>` / `deployments:<d>` from the alert's
 * `gateway` / `deployment` labels; value `{ labels, annotations, startsAt, endsAt, fingerprint,
 * status, generatorURL }`. A label value that cannot be a tag (`alertname` with a space, a
 * `gateway` that is not a Veer name) gives no tag: the alert is still stored, the label still in
 * the value. Rejecting it would drop the whole group, as Alertmanager does not retry a 4xx.
 */

/** Alertmanager splits larger groups only with `max_alerts`; more than this in one post is refused. */
export const MAX_ALERTS = 1000;
/** Bounds that keep one alert within an event's value (64 KiB) in the usual case; the size is checked too. */
export const MAX_LABELS = 64;
const MAX_NAME = 256;
const MAX_LABEL_VALUE = 2048;
const MAX_ANNOTATION_VALUE = 16 * 1024;
const MAX_URL = 4096;

/**
 * How long a delivered alert's key is remembered (7 days): longer than any sensible
 * repeat_interval (Alertmanager's default is 4 h), so its repeats store nothing; an alert still
 * firing after that is stored once more, which a rollback hook treats as the same alert.
 */
export const ALERT_DEDUPE_TTL_MS = 7 * 24 * 3600_000;

const labelMap = (maxValue: number) =>
  z
    .record(z.string().min(1).max(MAX_NAME), z.string().max(maxValue))
    .refine((m) => Object.keys(m).length <= MAX_LABELS, { message: `at most ${MAX_LABELS} entries` });

const Time = z.string().datetime({ offset: true, message: 'must be an RFC 3339 time' });
const Status = z.enum(['firing', 'resolved']);

const AlertSchema = z.object({
  status: Status,
  labels: labelMap(MAX_LABEL_VALUE),
  annotations: labelMap(MAX_ANNOTATION_VALUE).default({}),
  startsAt: Time,
  // Go's zero time (0001-01-01T00:00:00Z) while firing without an end.
  endsAt: Time.optional(),
  generatorURL: z.string().max(MAX_URL).default(''),
  fingerprint: z.string().regex(/^[0-9A-Za-z]{1,64}$/, 'must be 1-64 letters or digits (Alertmanager sends 16 hex digits)'),
});

/** Fields Veer does not use are checked only for their type, so a wrong one is named, not a mystery. */
export const AlertmanagerPayloadSchema = z.object({
  version: z.literal('4', { message: "must be '4' (the webhook payload version this Veer reads)" }),
  groupKey: z.string().max(MAX_URL).optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: Status.optional(),
  receiver: z.string().max(MAX_NAME).optional(),
  groupLabels: labelMap(MAX_LABEL_VALUE).optional(),
  commonLabels: labelMap(MAX_LABEL_VALUE).optional(),
  commonAnnotations: labelMap(MAX_ANNOTATION_VALUE).optional(),
  externalURL: z.string().max(MAX_URL).optional(),
  alerts: z.array(AlertSchema).max(MAX_ALERTS, `at most ${MAX_ALERTS} alerts per post (set max_alerts in the webhook_config)`),
});

export type AlertmanagerAlert = z.infer<typeof AlertSchema>;

export interface AlertValue {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  fingerprint: string;
  status: 'firing' | 'resolved';
  generatorURL: string;
}

/** One alert as the bus's input (no timestamp: the event's time is when Veer received it; the alert's own times are in the value). */
export interface AlertEvent {
  /** The OnceKeys key: the same alert in the same state (a repeat) has the same key. */
  onceKey: string;
  input: { tags: string[]; type: 'alert.firing' | 'alert.resolved'; value: AlertValue };
}

/** The dedupe key: fingerprint + status + startsAt (a re-fire after a resolve has a new startsAt). */
export function alertOnceKey(alert: Pick<AlertmanagerAlert, 'fingerprint' | 'status' | 'startsAt'>): string {
  return `alertmanager:${alert.fingerprint}:${alert.status}:${Date.parse(alert.startsAt)}`;
}

const tagValue = (group: string, value: string | undefined): string[] => {
  if (value === undefined) return [];
  const tag = `${group}:${value}`;
  return tag.length <= 200 && TAG_PATTERN.test(tag) ? [tag] : [];
};
const nameTag = (group: string, value: string | undefined): string[] =>
  value !== undefined && NameSchema.safeParse(value).success ? [`${group}:${value}`] : [];

export function alertEvent(alert: AlertmanagerAlert): AlertEvent {
  const { labels } = alert;
  return {
    onceKey: alertOnceKey(alert),
    input: {
      tags: ['alerts', ...tagValue('alertname', labels.alertname), ...nameTag('gateways', labels.gateway), ...nameTag('deployments', labels.deployment)],
      type: alert.status === 'firing' ? 'alert.firing' : 'alert.resolved',
      value: {
        labels,
        annotations: alert.annotations,
        startsAt: alert.startsAt,
        ...(alert.endsAt !== undefined ? { endsAt: alert.endsAt } : {}),
        fingerprint: alert.fingerprint,
        status: alert.status,
        generatorURL: alert.generatorURL,
      },
    },
  };
}

/**
 * The events of a payload, in its order, or a ValidationError naming every field at fault
 * (`alerts.0.fingerprint`); an alert too large for an event's value is named as `alerts.<i>`.
 */
export function alertEvents(body: unknown): AlertEvent[] {
  const parsed = AlertmanagerPayloadSchema.safeParse(body);
  if (!parsed.success) throw validationErrorFromZod(parsed.error, { title: 'invalid Alertmanager payload' });
  const events = parsed.data.alerts.map(alertEvent);
  const issues: Issue[] = [];
  events.forEach((e, i) => {
    if (Buffer.byteLength(JSON.stringify(e.input.value)) > MAX_VALUE_BYTES)
      issues.push({ path: `alerts.${i}`, message: `labels and annotations must be at most ${MAX_VALUE_BYTES} bytes as JSON` });
  });
  if (issues.length) throw validationErrorOf(issues, 'invalid Alertmanager payload');
  return events;
}
