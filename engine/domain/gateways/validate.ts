import { ValidationError } from '../../shared/errors.ts';
import { validationErrorFromZod } from '../../shared/issues.ts';
import { parseCondition } from './condition.ts';
import { GatewayNameSchema, GatewaySpecSchema, RouteNameSchema, type Gateway, type Route } from './model.ts';
import { normaliseWeights } from './weights.ts';

export const MAX_ROUTES = 100;

function invalid(path: string, message: string): ValidationError {
  return new ValidationError(`${path}: ${message}`, [{ path, message }]);
}

/**
 * Checks a gateway spec completely (shape, weights, conditions, mode rules) and returns the
 * normalised gateway: every route has a weight and a condition strength. Used by the
 * service on every write and by the agent on every read, so a hand-edited KV value cannot
 * smuggle anything into HAProxy.
 */
export function validateGateway(name: string, input: unknown, now: Date = new Date()): Gateway {
  const n = GatewayNameSchema.safeParse(name);
  if (!n.success) throw invalid('name', n.error.issues[0]?.message ?? 'invalid name');
  const parsed = GatewaySpecSchema.safeParse(input);
  if (!parsed.success) throw validationErrorFromZod(parsed.error);
  const spec = parsed.data;
  const names = Object.keys(spec.routes);
  if (names.length === 0) throw invalid('routes', 'a gateway needs at least one route');
  for (const r of names) {
    const ok = RouteNameSchema.safeParse(r);
    if (!ok.success) throw invalid(`routes.${r}`, ok.error.issues[0]?.message ?? 'invalid route name');
  }
  if (names.length > MAX_ROUTES) throw invalid('routes', `at most ${MAX_ROUTES} routes, got ${names.length}`);

  if (spec.mode === 'tcp') {
    if (spec.sticky !== 'none') throw invalid('sticky', `sticky sessions use cookies and need mode 'http' (this gateway is 'tcp')`);
    if (spec.virtualHosts.length) throw invalid('virtualHosts', `virtual hosts need mode 'http' (this gateway is 'tcp')`);
  }

  const weights = normaliseWeights(names.map((r) => [r, spec.routes[r].weight]));
  const routes: Record<string, Route> = {};
  for (const r of names) {
    const given = spec.routes[r];
    const route: Route = { weight: weights[r], conditionStrength: 0, targets: given.targets };
    if (given.condition !== undefined) {
      const path = `routes.${r}.condition`;
      if (spec.mode === 'tcp') throw invalid(path, `conditions inspect HTTP requests and need mode 'http' (this gateway is 'tcp')`);
      // The parser refuses everything the agent's ACL compiler could not write (see condition.ts).
      parseCondition(given.condition, path);
      route.condition = given.condition;
      route.conditionStrength = given.conditionStrength ?? 100;
    } else if (given.conditionStrength !== undefined && given.conditionStrength !== 0) {
      throw invalid(`routes.${r}.conditionStrength`, 'a condition strength needs a condition on the same route');
    }
    if (given.balance) route.balance = given.balance;
    routes[r] = route;
  }
  return {
    name,
    port: spec.port,
    mode: spec.mode,
    sticky: spec.sticky,
    virtualHosts: spec.virtualHosts.map((h) => h.toLowerCase()),
    routes,
    labels: spec.labels,
    annotations: spec.annotations,
    updatedAt: now.toISOString(),
  };
}

/** The spec part of a gateway (what a user PUTs), e.g. to merge a partial update into. */
export function specOf(g: Gateway): Record<string, unknown> {
  const routes = structuredClone(g.routes) as Record<string, Partial<Route>>;
  // A strength without a condition is only the default 0; leave it out so adding a condition later defaults it to 100.
  for (const r of Object.values(routes)) if (r.condition === undefined) delete r.conditionStrength;
  return { port: g.port, mode: g.mode, sticky: g.sticky, virtualHosts: g.virtualHosts, routes, labels: g.labels, annotations: g.annotations };
}
