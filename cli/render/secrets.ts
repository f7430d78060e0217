import { formatTable, relativeTime } from '../output.ts';
import type { Secret } from '../resources.ts';
import { SOURCE_ANNOTATION, fields, keyValues, section } from './text.ts';

/** Names, versions and times only: the API never returns a value. */
export function secretsTable(items: Secret[]): string {
  return formatTable(
    ['NAME', 'VERSION', 'UPDATED'],
    items.map((s) => [s.name, s.version, relativeTime(s.updatedAt)]),
  );
}

export function describeSecret(s: Secret): string {
  return (
    fields([
      ['Name', s.name],
      ['Version', s.version],
      ['Source', s.annotations?.[SOURCE_ANNOTATION]],
      ['Created', `${s.createdAt} (${relativeTime(s.createdAt)})`],
      ['Updated', `${s.updatedAt} (${relativeTime(s.updatedAt)})`],
    ]) +
    section('Labels', keyValues(s.labels)) +
    section('Annotations', keyValues(s.annotations))
  );
}
