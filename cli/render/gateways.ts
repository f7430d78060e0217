import { formatTable, paintStatus, relativeTime } from '../output.ts';
import type { GatewayMetrics, GatewayStatusView, GatewayView, RouteView } from '../resources.ts';
import { SOURCE_ANNOTATION, fields, keyValues, section, yesNo } from './text.ts';

/** `stable=90 canary=10`: the routes in their (significant) order with their weights. */
export const weightsText = (g: GatewayView): string =>
  Object.entries(g.routes ?? {})
    .map(([name, r]) => `${name}=${r.weight}`)
    .join(' ');

export function gatewaysTable(items: Array<{ gateway: GatewayView; live?: boolean }>): string {
  return formatTable(
    ['NAME', 'PORT', 'MODE', 'ROUTES', 'LIVE', 'UPDATED'],
    items.map(({ gateway: g, live }) => [
      g.name,
      g.port,
      g.mode,
      weightsText(g),
      live === undefined ? '' : live ? paintStatus('live') : 'no',
      relativeTime(g.updatedAt),
    ]),
  );
}

/** `127.0.0.1:8081, 127.0.0.1:8082` or `deployment web port http`. */
export function targetsText(t: RouteView['targets']): string {
  if (Array.isArray(t)) return t.map((x) => `${x.host}:${x.port}`).join(', ');
  return t ? `deployment ${t.deployment} port ${t.port}` : '';
}

/** One route's metrics over the last minute, or why they could not be read. */
export interface RouteMetrics {
  route: string;
  metrics?: GatewayMetrics;
  error?: string;
}

/** What `veer describe gateway` puts together (also its -o json shape). */
export interface GatewayDescription {
  gateway: GatewayView;
  status: GatewayStatusView;
  metrics: RouteMetrics[];
}

const percent = (x: number | null | undefined) => (x === null || x === undefined ? '' : `${(x * 100).toFixed(1)}%`);
const ms = (x: number | null | undefined) => (x === null || x === undefined ? '' : `${x}ms`);

export function describeGateway(d: GatewayDescription): string {
  const g = d.gateway;
  let out = fields([
    ['Name', g.name],
    ['Port', g.port],
    ['Mode', g.mode],
    ['Sticky', g.sticky],
    ['Virtual hosts', g.virtualHosts?.join(', ')],
    ['Revision', g.revision],
    ['Live', d.status.live ? paintStatus('live') : 'no (no live agent serves the current revision everywhere)'],
    ['Source', g.annotations?.[SOURCE_ANNOTATION]],
    ['Updated', g.updatedAt ? `${g.updatedAt} (${relativeTime(g.updatedAt)})` : undefined],
  ]);
  out += section('Labels', keyValues(g.labels));
  out += section('Annotations', keyValues(g.annotations));
  out += section(
    'Routes',
    formatTable(
      ['ROUTE', 'WEIGHT', 'CONDITION', 'STRENGTH', 'BALANCE', 'TARGETS'],
      Object.entries(g.routes ?? {}).map(([name, r]) => [
        name,
        `${r.weight}%`,
        r.condition,
        r.condition ? `${r.conditionStrength ?? 100}%` : '',
        r.balance,
        targetsText(r.targets),
      ]),
    ),
  );
  out += section(
    'Agents',
    d.status.agents.length
      ? formatTable(
          ['AGENT', 'ALIVE', 'APPLIED REVISION', 'CURRENT', 'APPLIED', 'HEARTBEAT', 'ERROR'],
          d.status.agents.map((a) => [
            a.agentId,
            yesNo(a.alive),
            a.appliedRevision,
            yesNo(a.current),
            relativeTime(a.appliedAt),
            relativeTime(a.heartbeatAt),
            [
              a.error,
              a.routesWithoutTargets?.length ? `routes without targets: ${a.routesWithoutTargets.join(', ')}` : '',
              a.routesHeld?.length ? `held at weight 0 until they have servers: ${a.routesHeld.join(', ')}` : '',
            ]
              .filter(Boolean)
              .join('; '),
          ]),
        )
      : 'no gateway agent has reported (start one with `npm run gateway-agent`)',
  );
  out += section(
    'Metrics (last minute)',
    formatTable(
      ['ROUTE', 'REQ/S', 'REQUESTS', 'ERROR RATE', 'P50', 'P99'],
      d.metrics.map(({ route, metrics: m, error }) =>
        m
          ? [route, m.rate.toFixed(2), m.requests, percent(m.errorRate), ms(m.latency.p50), ms(m.latency.p99)]
          : [route, `unavailable: ${error ?? 'no answer'}`, '', '', '', ''],
      ),
    ),
  );
  return out;
}
