import { formatTable, paintStatus } from '../output.ts';
import type { Deployment } from '../resources.ts';
import { SOURCE_ANNOTATION, fields, keyValues, section, yesNo } from './text.ts';

const what = (d: Deployment) => d.image ?? d.command ?? '';

export function deploymentsTable(items: Deployment[]): string {
  return formatTable(
    ['NAME', 'READY', 'STATUS', 'ENDPOINTS', 'IMAGE/COMMAND'],
    items.map((d) => [d.name, `${d.readyInstances}/${d.desiredInstances}`, paintStatus(d.status), d.endpoints.length, what(d)]),
  );
}

const bytes = (n: number | undefined) => (n === undefined ? undefined : n >= 1 << 20 ? `${Math.round(n / (1 << 20))}Mi` : `${n}`);

export function describeDeployment(d: Deployment): string {
  let out = fields([
    ['Name', d.name],
    ['Status', paintStatus(d.status)],
    ['Instances', `${d.readyInstances} ready of ${d.desiredInstances} desired`],
    [d.image ? 'Image' : 'Command', what(d)],
    ['CPU', d.cpu === undefined ? undefined : `${d.cpu} cores`],
    ['Memory', bytes(d.memory)],
    ['Source', d.annotations?.[SOURCE_ANNOTATION]],
  ]);
  out += section('Labels', keyValues(d.labels));
  out += section('Annotations', keyValues(d.annotations));
  out += section(
    'Endpoints',
    d.endpoints.length
      ? formatTable(
          ['NAME', 'ADDRESS', 'READY'],
          d.endpoints.map((e) => [e.name, `${e.host}:${e.port}`, yesNo(e.ready)]),
        )
      : '',
  );
  return out;
}
