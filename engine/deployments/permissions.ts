import { globMatches, isGlob } from '../domain/glob.ts';
import type { Permissions } from '../domain/workflow.ts';

export interface DeploymentGrant {
  /** The key of permissions.deployments that matched (a name or a glob). */
  pattern: string;
  minInstances: number;
  maxInstances: number;
}

/**
 * Which entry of `permissions.deployments` governs a deployment: an exact name wins; among
 * globs (`*` = any run of characters, `?` = one), the most specific (most literal characters)
 * wins, so `"shop-canary": {...}` can narrow `"shop-*": {...}`.
 */
export function grantFor(deployments: Permissions['deployments'], name: string): DeploymentGrant | undefined {
  // Own keys only: a name like 'constructor' must not find Object.prototype's members.
  const exact = Object.hasOwn(deployments, name) ? deployments[name] : undefined;
  if (exact) return { pattern: name, minInstances: exact.minInstances, maxInstances: exact.maxInstances };
  let best: DeploymentGrant | undefined;
  let bestLiteral = -1;
  for (const [pattern, b] of Object.entries(deployments)) {
    if (!isGlob(pattern) || !globMatches(pattern, name)) continue;
    const literal = pattern.replace(/[*?]/g, '').length;
    if (literal > bestLiteral) {
      best = { pattern, minInstances: b.minInstances, maxInstances: b.maxInstances };
      bestLiteral = literal;
    }
  }
  return best;
}
