import { randomUUID } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp } from '../../api/app.ts';
import { createRouters } from '../../api/routers.ts';
import { loadCoreConfig } from '../../engine/config.ts';
import type { Engine } from '../../engine/engine-runtime.ts';
import { startEngineFor } from '../../engine/main.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { createSystem, type System } from '../../engine/system.ts';
import { startRedis, type TestRedis } from './redis-server.ts';

export interface TestSystem {
  redis: TestRedis;
  system: System;
  engine?: Engine;
  app: OpenAPIHono;
  env: Record<string, string>;
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
    VEER_REDIS_URL: redis.url,
    VEER_REDIS_PREFIX: `t${randomUUID().slice(0, 8)}`,
    VEER_ENGINE_CONCURRENCY: '4',
    VEER_SANDBOX_PROCESSES: '2',
    VEER_SHUTDOWN_GRACE_MS: '2000',
    ...options.env,
  };
  const config = loadCoreConfig(env);
  const logger = silentLogger();
  const system = await createSystem(config, env, logger);
  const engine = options.engine === false ? undefined : await startEngineFor(system, logger);
  const { routers, rootRouters } = createRouters(system);
  const app = createApp({ logger, tokens: config.api.tokens, routers, rootRouters });
  return {
    redis, system, engine, app, env,
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
      await system.close();
      if (!options.redis) await redis.stop();
    },
  };
}
