import { randomUUID } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { VeerError } from '../engine/shared/errors.ts';
import type { Logger } from '../engine/shared/logger.ts';
import { bearerAuth } from './auth.ts';
import { createErrorHandler, respondWithError } from './error-handler.ts';
import { createRouter } from './validation.ts';

/**
 * Everything the API needs, passed in by the entry point (api/main.ts) or a test.
 * Each resource's routes live in api/routes/<resource>.ts and are mounted only when
 * their service is present, so tests can build an app with just what they exercise.
 */
export interface ApiDeps {
  logger: Logger;
  /** Bearer tokens; empty means no auth (the entry point then binds to loopback only). */
  tokens: string[];
  /** Mounted under /api/v1, in order. Each is `createRouter()` with its routes. */
  routers: OpenAPIHono[];
  /** Largest accepted request body (default 2 MiB). */
  maxBodyBytes?: number;
  /** Mounted at the root (/healthz, /readyz, /metrics). */
  rootRouters?: OpenAPIHono[];
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

  app.use('/api/v1/*', async (c, next) => {
    // The OpenAPI description is public so tools can discover the API before holding a token.
    if (c.req.path === '/api/v1/openapi.json') return next();
    return bearerAuth(deps.tokens)(c, next);
  });
  // Scripts are capped at 512 KiB by the schema; this stops larger bodies before they are parsed.
  const maxBodyBytes = deps.maxBodyBytes ?? 2 * 1024 * 1024;
  app.use(
    '/api/v1/*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) => respondWithError(c, new VeerError('PAYLOAD_TOO_LARGE', `request body is larger than ${maxBodyBytes} bytes`), deps.logger),
    }),
  );
  for (const r of deps.routers) app.route('/api/v1', r);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.doc31('/api/v1/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Veer API', version: '1.0.0', description: 'Workflows, runs, gateways, deployments and events.' },
    security: [{ bearer: [] }],
  });
  return app;
}
