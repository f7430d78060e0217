import type { components } from '../../../../cli/api/schema.ts';

export type GatewayView = components['schemas']['Gateway'];
export type GatewayStatusView = components['schemas']['GatewayStatus'];
export type SeriesView = components['schemas']['GatewayMetricsSeries'];
export type PointView = components['schemas']['GatewayMetricsPoint'];

/** What a route sends traffic to, in words: a deployment's name, or its static servers. */
export function describeTargets(targets: GatewayView['routes'][string]['targets']): string {
  if (Array.isArray(targets)) return targets.length ? targets.map((t) => `${t.host}:${t.port}`).join(', ') : 'no targets';
  return `deployment ${targets.deployment} (port ${targets.port})`;
}

/** A route's target as a short name (its deployment), or the route's own name for static servers. */
export function targetName(g: GatewayView, route: string): string {
  const t = g.routes[route]?.targets;
  if (!t || Array.isArray(t)) return route;
  // Two routes on one deployment would share a label: fall back to the route.
  const same = Object.values(g.routes).filter((r) => !Array.isArray(r.targets) && r.targets.deployment === t.deployment).length;
  return same === 1 ? t.deployment : route;
}
