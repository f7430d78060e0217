import { formatTable, paintStatus, relativeTime } from '../output.ts';
import type { Notifier, NotifierDelivery } from '../resources.ts';
import { SOURCE_ANNOTATION, fields, keyValues, section, yesNo } from './text.ts';

/**
 * The URL with anything that may be a credential masked: a password in it and query values
 * (`{{secret:name}}` placeholders stay: they name a secret, they are not one).
 */
export function safeUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return raw.replace(/\/\/[^/@]*@/, '//***@');
  }
  if (u.password) u.password = '***';
  const keep = (v: string) => /^\{\{secret:[a-z0-9-]+\}\}$/.test(v);
  for (const [k, v] of [...u.searchParams]) if (!keep(v)) u.searchParams.set(k, '***');
  // URL percent-encodes the braces of placeholders; show them as written.
  return u
    .toString()
    .replace(/%7B%7B/gi, '{{')
    .replace(/%7D%7D/gi, '}}');
}

export function notifiersTable(items: Notifier[]): string {
  return formatTable(
    ['NAME', 'URL', 'FORMAT', 'TYPES', 'TAGS'],
    items.map((n) => [n.name, safeUrl(n.url), n.format, (n.events.types ?? []).join(','), n.events.tags.join(',')]),
  );
}

/** What `veer describe notifier` puts together (also its -o json shape). */
export interface NotifierDescription {
  notifier: Notifier;
  deliveries: NotifierDelivery[];
}

export function describeNotifier(d: NotifierDescription): string {
  const n = d.notifier;
  let out = fields([
    ['Name', n.name],
    ['URL', safeUrl(n.url)],
    ['Format', n.format],
    ['Signed', yesNo(n.hasSecret)],
    ['Types', (n.events.types ?? []).join(', ') || 'any'],
    ['Tags', n.events.tags.join(', ') || 'any'],
    ['Source', n.annotations?.[SOURCE_ANNOTATION]],
    ['Created', `${n.createdAt} (${relativeTime(n.createdAt)})`],
    ['Updated', `${n.updatedAt} (${relativeTime(n.updatedAt)})`],
  ]);
  out += section('Labels', keyValues(n.labels));
  out += section('Annotations', keyValues(n.annotations));
  out += section(
    'Recent deliveries',
    d.deliveries.length
      ? formatTable(
          ['AT', 'EVENT', 'TYPE', 'ATTEMPT', 'STATUS', 'HTTP', 'TOOK', 'ERROR'],
          d.deliveries.map((x) => [relativeTime(x.at), x.eventId, x.eventType, x.attempt, paintStatus(x.status), x.httpStatus, `${x.ms}ms`, x.error]),
        )
      : '',
  );
  return out;
}
