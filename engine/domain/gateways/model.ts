import { z } from 'zod';
import { MetadataFields } from '../metadata.ts';
import { NameSchema } from '../workflow.ts';

/**
 * A gateway: one port with named, weighted routes to backends. The model is Vamp's
 * (routes, weights, conditions with a strength, sticky, virtual hosts) with stricter input:
 * names are safe to use verbatim in KV keys, HAProxy section names and cookie values.
 */

export const GatewayNameSchema = NameSchema;

/** Route names become HAProxy server names and cookie values, so keep them plain. */
export const RouteNameSchema = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/,
    'route names must be 1-63 lowercase letters, digits, dots, dashes or underscores, starting and ending with a letter or digit',
  );

const HostSchema = z
  .string()
  .max(253)
  .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/, 'must be a host name or an IPv4 address');

export const StaticTargetSchema = z
  .object({
    host: HostSchema,
    port: z.number().int().min(1).max(65535),
  })
  .strict();

/** Resolved later by the deployments resolver; until then the route has no servers. */
export const DeploymentTargetSchema = z
  .object({
    deployment: NameSchema,
    port: z.union([z.string().min(1).max(63), z.number().int().min(1).max(65535)]),
  })
  .strict();

export const BALANCE_ALGORITHMS = ['roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'random', 'uri'] as const;

export const RouteSpecSchema = z
  .object({
    weight: z.number().int().min(0).max(100).optional().describe('whole percent of the traffic not taken by conditions; missing weights are filled in evenly'),
    condition: z.string().min(1).max(2000).optional().describe('e.g. `header X-Canary == yes and not has cookie opt-out`'),
    conditionStrength: z.number().int().min(0).max(100).optional().describe('percent of matching requests sent to this route; default 100 with a condition'),
    balance: z.enum(BALANCE_ALGORITHMS).optional().describe("balancing between this route's targets; default roundrobin (http) or leastconn (tcp)"),
    targets: z.union([z.array(StaticTargetSchema).max(1000), DeploymentTargetSchema]).default([]),
  })
  .strict();

export const GatewaySpecSchema = z
  .object({
    port: z.number().int().min(1).max(65535),
    mode: z.enum(['http', 'tcp']).default('http'),
    sticky: z
      .enum(['none', 'route', 'instance'])
      .default('none')
      .describe('route: a cookie keeps a client on its route; instance: also on its server (http only)'),
    virtualHosts: z.array(HostSchema).max(100).default([]).describe('when set, only these Host names are served on the port (http only)'),
    routes: z.record(z.string(), RouteSpecSchema).describe('route name (1-63 of a-z 0-9 . _ -) → route; order matters for conditions'),
    // Stored with the gateway; the agent renders none of them.
    ...MetadataFields,
  })
  .strict();

export type StaticTarget = z.output<typeof StaticTargetSchema>;
export type DeploymentTarget = z.output<typeof DeploymentTargetSchema>;
export type Balance = (typeof BALANCE_ALGORITHMS)[number];

/** A route after validation: weight and strength are always set. */
export interface Route {
  weight: number;
  condition?: string;
  conditionStrength: number;
  balance?: Balance;
  targets: StaticTarget[] | DeploymentTarget;
}

/** What is stored at `gateways/<name>` (the KV revision is kept beside it, never inside). */
export interface Gateway {
  name: string;
  port: number;
  mode: 'http' | 'tcp';
  sticky: 'none' | 'route' | 'instance';
  virtualHosts: string[];
  routes: Record<string, Route>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  updatedAt: string;
}

/** A gateway as the service returns it: the stored document plus its KV revision. */
export interface GatewayRecord extends Gateway {
  revision: string;
}

export function isDeploymentTarget(t: Route['targets']): t is DeploymentTarget {
  return !Array.isArray(t);
}

export function weightsOf(g: Pick<Gateway, 'routes'>): Record<string, number> {
  return Object.fromEntries(Object.entries(g.routes).map(([name, r]) => [name, r.weight]));
}
