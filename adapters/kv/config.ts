import { z } from 'zod';
import { parseEnv } from '../../engine/shared/env.ts';
import { describeRedisTarget, type RedisTarget } from '../redis/target.ts';

/**
 * KV store configuration (read by the entry points only):
 *   VEER_KV          redis | etcd | consul | zookeeper   (default redis: the engine's own Redis)
 *   VEER_KV_URL      connection string; defaults per store: redis = VEER_REDIS_URL,
 *                    etcd http://127.0.0.1:2379 (comma-separated for several endpoints),
 *                    consul http://127.0.0.1:8500, zookeeper 127.0.0.1:2181 (host:port list)
 *   VEER_KV_PREFIX   store-level prefix, default 'veer'. Mapped per store: etcd and Consul keys
 *                    'veer/<key>', ZooKeeper znodes '/veer/<key>', Redis keys '{veer:kv}:...'.
 *   VEER_KV_TOKEN    Consul ACL token (X-Consul-Token), optional
 *   VEER_KV_USERNAME / VEER_KV_PASSWORD   etcd auth, optional
 *   VEER_KV_TIMEOUT_MS  upper bound of one store operation (default 5000)
 */
export const KvEnvSchema = z.object({
  VEER_KV: z.enum(['redis', 'etcd', 'consul', 'zookeeper']).default('redis'),
  VEER_KV_URL: z.string().optional(),
  VEER_KV_PREFIX: z
    .string()
    .regex(/^\/?[A-Za-z0-9_.~:@=+,%-]+(\/[A-Za-z0-9_.~:@=+,%-]+)*\/?$/, 'segments of letters, digits and _ . ~ : @ = + , % -')
    .default('veer'),
  VEER_KV_TOKEN: z.string().optional(),
  VEER_KV_USERNAME: z.string().optional(),
  VEER_KV_PASSWORD: z.string().optional(),
  VEER_KV_TIMEOUT_MS: z.coerce.number().int().min(50).max(600_000).default(5000),
});

export type KvKind = z.output<typeof KvEnvSchema>['VEER_KV'];

export interface KvConfig {
  kind: KvKind;
  url: string;
  prefix: string;
  timeoutMs: number;
  /** Consul ACL token. */
  token?: string;
  /** etcd credentials. */
  auth?: { username: string; password: string };
  /** The Redis store on the installation's own Redis (no VEER_KV_URL): its Cluster or Sentinels included. */
  redis?: RedisTarget;
}

export const KV_DEFAULT_URLS: Record<Exclude<KvKind, 'redis'>, string> = {
  etcd: 'http://127.0.0.1:2379',
  consul: 'http://127.0.0.1:8500',
  zookeeper: '127.0.0.1:2181',
};

/** `redisUrl` is the core VEER_REDIS_URL: the default store lives on the engine's Redis. */
export function loadKvConfig(env: Record<string, string | undefined>, redisUrl = 'redis://127.0.0.1:6379'): KvConfig {
  const e = parseEnv(KvEnvSchema, env);
  const url = e.VEER_KV_URL ?? (e.VEER_KV === 'redis' ? redisUrl : KV_DEFAULT_URLS[e.VEER_KV]);
  return {
    kind: e.VEER_KV,
    url,
    prefix: e.VEER_KV_PREFIX.replace(/^\/+|\/+$/g, ''),
    timeoutMs: e.VEER_KV_TIMEOUT_MS,
    ...(e.VEER_KV_TOKEN ? { token: e.VEER_KV_TOKEN } : {}),
    ...(e.VEER_KV_USERNAME ? { auth: { username: e.VEER_KV_USERNAME, password: e.VEER_KV_PASSWORD ?? '' } } : {}),
  };
}

/**
 * The KV config an installation uses: without VEER_KV_PREFIX, the Redis key prefix of the
 * installation (VEER_REDIS_PREFIX), so two installations sharing a Redis never share gateways.
 * The API, the engine and the gateway agent must all call this one.
 */
export function loadKvConfigFor(env: Record<string, string | undefined>, core: { redisUrl: string; redisPrefix: string }, redis?: RedisTarget): KvConfig {
  const config = loadKvConfig({ VEER_KV_PREFIX: core.redisPrefix, ...stripEmpty(env) }, core.redisUrl);
  // On the installation's own Redis the store follows its topology (one server, Cluster, Sentinel).
  if (config.kind !== 'redis' || env.VEER_KV_URL || !redis || redis.mode === 'single') return config;
  return { ...config, url: describeRedisTarget(redis), redis };
}

function stripEmpty(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
}
