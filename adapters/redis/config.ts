import { z } from 'zod';
import { parseEnv, type Env } from '../../engine/shared/env.ts';
import { parseHostPorts, type RedisAuth, type RedisTarget } from './target.ts';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const hostPorts = (variable: string) =>
  z.string().transform((v, ctx) => {
    try {
      return parseHostPorts(variable, v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(`${variable}: `, '') });
      return z.NEVER;
    }
  });

/** Which Redis: VEER_REDIS_URL (core config) unless a Cluster or Sentinels are named. */
export const RedisTopologyEnvSchema = z
  .object({
    VEER_REDIS_CLUSTER_NODES: hostPorts('VEER_REDIS_CLUSTER_NODES').optional(),
    VEER_REDIS_SENTINELS: hostPorts('VEER_REDIS_SENTINELS').optional(),
    VEER_REDIS_SENTINEL_NAME: z.string().min(1).optional(),
    VEER_REDIS_SENTINEL_PASSWORD: z.string().optional(),
    VEER_REDIS_USERNAME: z.string().min(1).optional(),
    VEER_REDIS_PASSWORD: z.string().optional(),
    VEER_REDIS_TLS: bool.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.VEER_REDIS_CLUSTER_NODES && v.VEER_REDIS_SENTINELS)
      ctx.addIssue({ code: 'custom', path: ['VEER_REDIS_SENTINELS'], message: 'set VEER_REDIS_CLUSTER_NODES or VEER_REDIS_SENTINELS, not both' });
    if (v.VEER_REDIS_SENTINELS && !v.VEER_REDIS_SENTINEL_NAME)
      ctx.addIssue({
        code: 'custom',
        path: ['VEER_REDIS_SENTINEL_NAME'],
        message: "required with VEER_REDIS_SENTINELS: the master group's name (`sentinel monitor <name> …`)",
      });
  });

/** The installation's Redis, from the environment; `url` is VEER_REDIS_URL (already validated by the core config). */
export function loadRedisTarget(env: Env, url: string): RedisTarget {
  const e = parseEnv(RedisTopologyEnvSchema, env);
  const auth: RedisAuth = {
    ...(e.VEER_REDIS_USERNAME ? { username: e.VEER_REDIS_USERNAME } : {}),
    ...(e.VEER_REDIS_PASSWORD ? { password: e.VEER_REDIS_PASSWORD } : {}),
    ...(e.VEER_REDIS_TLS ? { tls: true } : {}),
  };
  const withAuth = Object.keys(auth).length ? { auth } : {};
  if (e.VEER_REDIS_CLUSTER_NODES) return { mode: 'cluster', nodes: e.VEER_REDIS_CLUSTER_NODES, ...withAuth };
  if (e.VEER_REDIS_SENTINELS)
    return {
      mode: 'sentinel',
      sentinels: e.VEER_REDIS_SENTINELS,
      name: e.VEER_REDIS_SENTINEL_NAME!,
      ...withAuth,
      ...(e.VEER_REDIS_SENTINEL_PASSWORD ? { sentinelPassword: e.VEER_REDIS_SENTINEL_PASSWORD } : {}),
    };
  return { mode: 'single', url, ...withAuth };
}
