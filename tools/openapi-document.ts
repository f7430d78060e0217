import { createApp } from '../api/app.ts';
import { createRouters } from '../api/routers.ts';
import type { SessionStore } from '../engine/ports/session-store.ts';
import type { System } from '../engine/system.ts';
import { silentLogger } from '../engine/shared/logger.ts';

/**
 * Any property is another stand-in and any call returns one: route factories only keep their
 * dependencies for the handlers, so this is enough to build every route and its description
 * without Redis or any other service (the description needs no request to be served).
 */
function standIn(): unknown {
  const target = function () {};
  const proxy: unknown = new Proxy(target, {
    get: (_t, key) => (key === 'then' ? undefined : key === Symbol.toPrimitive ? () => '' : proxy),
    apply: () => proxy,
  });
  return proxy;
}

/** The API's OpenAPI document exactly as `GET /api/v1/openapi.json` serves it. */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const { routers, rootRouters } = createRouters(standIn() as System);
  const sessions = { store: standIn() as SessionStore, ttlMs: 1 };
  const app = createApp({ logger: silentLogger(), tokens: [], routeTokens: [], routers, rootRouters, sessions });
  const res = await app.request('/api/v1/openapi.json');
  if (!res.ok) throw new Error(`the API answered ${res.status} for its own OpenAPI document`);
  return (await res.json()) as Record<string, unknown>;
}
