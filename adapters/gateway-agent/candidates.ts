import { isDeploymentTarget, type Gateway, type StaticTarget } from '../../engine/domain/gateways/model.ts';
import { validateGateway } from '../../engine/domain/gateways/validate.ts';
import type { AgentContext } from './agent-context.ts';
import type { AppliedGateway } from './agent-state.ts';
import type { StoredGateway } from './gateway-watcher.ts';
import { renderGateway, renderSkeleton } from './render.ts';

/** Deployment targets move and scale: such gateways are rebuilt on every pass, not only on a new revision. */
export const hasDeploymentTargets = (g: Gateway): boolean => Object.values(g.routes).some((r) => isDeploymentTarget(r.targets));

/** Servers per route; a resolver failure leaves the route without servers (logged, then reported). */
async function resolveServers(ctx: AgentContext, g: Gateway): Promise<{ servers: Record<string, StaticTarget[]>; missing: string[] }> {
  const servers: Record<string, StaticTarget[]> = {};
  const missing: string[] = [];
  for (const [name, route] of Object.entries(g.routes)) {
    if (!isDeploymentTarget(route.targets)) servers[name] = route.targets;
    else if (ctx.resolveTargets)
      servers[name] = await ctx.resolveTargets(route.targets.deployment, route.targets.port).catch((err) => {
        ctx.log.warn({ err, gateway: g.name, route: name }, 'could not resolve deployment targets');
        return [];
      });
    else servers[name] = [];
    if (servers[name].length === 0) missing.push(name);
  }
  return { servers, missing };
}

/**
 * A route whose targets resolve to no server would answer 503 for its share of the weighted
 * traffic. While another route with servers carries weight, that share is held at 0 and goes to
 * those routes instead: a canary whose instances are not up yet, or not yet resolved by this
 * agent (it re-resolves every heartbeat), gets no traffic rather than errors. The stored weight
 * comes back with the route's first server. With no route left to take the share, nothing is held.
 */
function holdEmptyRoutes(g: Gateway, missing: string[]): { gateway: Gateway; held: string[] } {
  const held = missing.filter((name) => g.routes[name]!.weight > 0);
  const carried = Object.entries(g.routes).some(([name, r]) => !missing.includes(name) && r.weight > 0);
  if (!held.length || !carried) return { gateway: g, held: [] };
  const routes = Object.fromEntries(Object.entries(g.routes).map(([name, r]) => [name, held.includes(name) ? { ...r, weight: 0 } : r]));
  return { gateway: { ...g, routes }, held };
}

/**
 * A stored gateway made ready for HAProxy: re-validated (the store may have been edited by
 * hand, and nothing unvalidated may reach the config), targets resolved, rendered. Throws the
 * validation error, which the pass reports as this revision's failure.
 */
export async function buildCandidate(ctx: AgentContext, name: string, stored: StoredGateway): Promise<AppliedGateway> {
  const { name: _n, updatedAt: _u, ...spec } = JSON.parse(stored.value) as Gateway;
  const { servers, missing } = await resolveServers(ctx, validateGateway(name, spec));
  const { gateway, held } = holdEmptyRoutes(validateGateway(name, spec), missing);
  const r = { gateway, servers };
  return {
    ...r,
    revision: stored.revision,
    text: renderGateway(r, ctx.render),
    skeleton: renderSkeleton(r, ctx.render),
    routesWithoutTargets: missing,
    routesHeld: held,
  };
}
