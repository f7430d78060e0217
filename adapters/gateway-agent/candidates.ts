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
 * A stored gateway made ready for HAProxy: re-validated (the store may have been edited by
 * hand, and nothing unvalidated may reach the config), targets resolved, rendered. Throws the
 * validation error, which the pass reports as this revision's failure.
 */
export async function buildCandidate(ctx: AgentContext, name: string, stored: StoredGateway): Promise<AppliedGateway> {
  const { name: _n, updatedAt: _u, ...spec } = JSON.parse(stored.value) as Gateway;
  const gateway = validateGateway(name, spec);
  const { servers, missing } = await resolveServers(ctx, gateway);
  const r = { gateway, servers };
  return { ...r, revision: stored.revision, text: renderGateway(r, ctx.render), skeleton: renderSkeleton(r, ctx.render), routesWithoutTargets: missing };
}
