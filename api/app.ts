import { randomUUID } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { VeerError } from '../engine/shared/errors.ts';
import type { Logger } from '../engine/shared/logger.ts';
import { authenticate, type RouteToken, type TokenConfig } from './auth.ts';
import { ErrorBodySchema } from './error-body.ts';
import { createErrorHandler, respondWithError } from './error-handler.ts';
import { createLoginLimiter } from './login-limiter.ts';
import { createSessionRoutes } from './session.ts';
import { createUiRoutes } from './ui-static.ts';
import { createRouter } from './validation.ts';
import type { SessionStore } from '../engine/ports/session-store.ts';

/**
 * Everything the API needs, passed in by the entry point (api/main.ts) or a test.
 * Each resource's routes live in api/routes/<resource>.ts and are mounted only when
 * their service is present, so tests can build an app with just what they exercise.
 */
export interface ApiDeps {
  logger: Logger;
  /**
   * Bearer tokens (scoped, or plain strings = admin); empty means no auth (the entry point then
   * binds to loopback only). Scopes are enforced by the access middleware of createRouters' first router.
   */
  tokens: TokenConfig;
  /** Tokens good for one route only, beside `tokens` (createRouters' `routeTokens`: Alertmanager's webhook). */
  routeTokens?: readonly RouteToken[];
  /** Mounted under /api/v1, in order. Each is `createRouter()` with its routes. */
  routers: OpenAPIHono[];
  /** Largest accepted request body (default 2 MiB). */
  maxBodyBytes?: number;
  /** Mounted at the root (/healthz, /readyz, /metrics). */
  rootRouters?: OpenAPIHono[];
  /** Dashboard logins (POST/GET/DELETE /api/v1/session); without it only bearer tokens work. */
  sessions?: { store: SessionStore; ttlMs: number };
  /** The built dashboard, served at `/` (api/ui-static.ts). */
  ui?: { dir: string };
}

export function createApp(deps: ApiDeps): OpenAPIHono {
  const app = createRouter();
  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id') ?? randomUUID();
    c.set('requestId' as never, requestId as never);
    c.header('x-request-id', requestId);
    await next();
  });
  app.onError(createErrorHandler(deps.logger));
  app.notFound((c) => respondWithError(c, new VeerError('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`), deps.logger));

  for (const r of deps.rootRouters ?? []) app.route('/', r);

  const auth = authenticate(deps.tokens, deps.routeTokens, deps.sessions?.store);
  app.use('/api/v1/*', async (c, next) => {
    // The OpenAPI description is public so tools can discover the API before holding a token.
    if (c.req.path === '/api/v1/openapi.json') return next();
    // Logging in is how a browser gets its credential.
    if (c.req.path === '/api/v1/session' && c.req.method === 'POST') return next();
    return auth(c, next);
  });
  // Scripts are capped at 512 KiB by the schema; this stops larger bodies before they are parsed.
  const maxBodyBytes = deps.maxBodyBytes ?? 2 * 1024 * 1024;
  app.use(
    '/api/v1/*',
    limitBody(maxBodyBytes, (c) => respondWithError(c, new VeerError('PAYLOAD_TOO_LARGE', `request body is larger than ${maxBodyBytes} bytes`), deps.logger)),
  );
  // Before the routers: their first one's access middleware would otherwise govern who may ask who they are.
  if (deps.sessions) app.route('/api/v1', createSessionRoutes({ ...deps.sessions, tokens: deps.tokens, limiter: createLoginLimiter(), logger: deps.logger }));
  for (const r of deps.routers) app.route('/api/v1', r);
  if (deps.ui) app.route('/', createUiRoutes(deps.ui));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  // Referenced by the 401/403 answers every operation gets (withAccessResponses).
  app.openAPIRegistry.register('Error', ErrorBodySchema);
  const docConfig = {
    openapi: '3.1.0',
    info: { title: 'Veer API', version: '1.0.0', description: 'Workflows, runs, gateways, deployments and events.' },
    security: [{ bearer: [] }],
  };
  app.get('/api/v1/openapi.json', (c) => c.json(withAccessResponses(app.getOpenAPI31Document(docConfig))));
  return app;
}

/**
 * Every /api/v1 operation can answer 401 (no or unknown token) and 403 FORBIDDEN (the token's
 * scope or globs do not cover it: api/access-policy.ts), whatever its router declares.
 */
function withAccessResponses<D extends { paths?: object }>(doc: D): D {
  const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Record<string, unknown>>)) {
    if (!path.startsWith('/api/v1/')) continue;
    for (const op of Object.values(item)) {
      if (typeof op !== 'object' || op === null || !('responses' in op)) continue;
      const responses = (op as { responses: Record<string, unknown> }).responses;
      responses['401'] ??= error('Missing or unknown bearer token (UNAUTHORIZED)');
      responses['403'] ??= error("The token's scope or resource globs do not cover this call (FORBIDDEN: names the scope needed and the token)");
    }
  }
  return doc;
}

/** How much of an over-limit body is read and thrown away so the client gets to read the 413. */
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;
const DISCARD_MAX_MS = 10_000;

/**
 * Hono's bodyLimit, except for what happens past the limit. A 413 sent while the client is
 * still writing, followed by a close with its data unread, is a connection reset for the many
 * clients that read the answer only after sending (a chunked body over 2 MiB "reset" instead
 * of answering 413), and a keep-alive connection left mid-body broke the client's next
 * request. So the rest of the body is read and discarded (bounded in bytes and time), then the
 * 413 goes out with `Connection: close`.
 */
function limitBody(maxBytes: number, tooLarge: (c: Context) => Response | Promise<Response>): MiddlewareHandler {
  return async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    const refuse = async (reader: ReadableStreamDefaultReader<Uint8Array>, seen: number) => {
      const until = Date.now() + DISCARD_MAX_MS;
      try {
        for (let total = seen; total <= DISCARD_MAX_BYTES && Date.now() < until;) {
          const { done, value } = await reader.read();
          if (done) break;
          total += value.length;
        }
      } catch {
        /* the client went away: nobody reads the answer */
      }
      void reader.cancel().catch(() => {});
      c.header('connection', 'close');
      return tooLarge(c);
    };
    const declared = c.req.raw.headers.has('transfer-encoding') ? null : c.req.raw.headers.get('content-length');
    if (declared !== null && Number(declared) <= maxBytes) return next();
    const reader = body.getReader();
    if (declared !== null) return refuse(reader, 0);
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) return refuse(reader, size);
      chunks.push(value);
    }
    const whole = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      whole.set(chunk, offset);
      offset += chunk.length;
    }
    c.req.raw = new Request(c.req.raw, { body: whole });
    return next();
  };
}
