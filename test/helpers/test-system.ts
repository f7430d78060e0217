import { randomUUID } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { Redis } from 'ioredis';
import { createKeys, type RedisKeys } from '../../adapters/redis/keys.ts';
import { createApp } from '../../api/app.ts';
import { createRouters } from '../../api/routers.ts';
import { loadConfig } from '../../boot/config.ts';
import { startEngineFor } from '../../boot/engine.ts';
import { createSystem, type BootedSystem } from '../../boot/system.ts';
import type { Engine } from '../../engine/engine-runtime.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { startRedis, type TestRedis } from './redis-server.ts';

export interface TestSystem {
  redis: TestRedis;
  system: BootedSystem;
  engine?: Engine;
  app: OpenAPIHono;
  env: Record<string, string>;
  /** A raw client on the test Redis, for tests that look at keys themselves (made on first use). */
  readonly redisClient: Redis;
  /** The key layout of this system's prefix. */
  keys: RedisKeys;
  /** app.request with JSON in and out. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/**
 * A whole Veer (API + optionally one engine) on a private redis-server with a random key
 * prefix. `redis` may be shared between systems to simulate several replicas.
 */
export async function startTestSystem(options: { engine?: boolean; env?: Record<string, string>; redis?: TestRedis } = {}): Promise<TestSystem> {
  const redis = options.redis ?? (await startRedis());
  const env: Record<string, string> = {
    ...redis.env,
    VEER_REDIS_PREFIX: `t${randomUUID().slice(0, 8)}`,
    VEER_ENGINE_CONCURRENCY: '4',
    VEER_SANDBOX_PROCESSES: '2',
    VEER_SHUTDOWN_GRACE_MS: '2000',
    ...options.env,
  };
  const config = loadConfig(env);
  const logger = silentLogger();
  const system = await createSystem(config, logger);
  const engine = options.engine === false ? undefined : await startEngineFor(system, logger);
  const { routers, rootRouters, routeTokens } = createRouters(system);
  const app = createApp({
    logger,
    tokens: config.core.api.tokens,
    routeTokens,
    routers,
    rootRouters,
    sessions: { store: system.sessions, ttlMs: config.core.api.sessionTtlMs },
    ui: { dir: config.core.api.uiDir },
  });
  let client: Redis | undefined;
  return {
    redis,
    system,
    engine,
    app,
    env,
    get redisClient() {
      if (!client) {
        client = redis.client({ maxRetriesPerRequest: 1 });
        // Once, on creation: a listener per access piled up (MaxListenersExceededWarning) in polling tests.
        client.on('error', () => {});
      }
      return client;
    },
    keys: createKeys(config.core.redisPrefix),
    async call(method, path, body, headers = {}) {
      const res = await app.request(path, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async stop() {
      client?.disconnect();
      await system.close();
      if (!options.redis) await redis.stop();
    },
  };
}
