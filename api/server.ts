import { serve, type ServerType } from '@hono/node-server';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { CoreConfig } from '../engine/config.ts';
import { VeerError } from '../engine/shared/errors.ts';
import type { Logger } from '../engine/shared/logger.ts';

/** Listens on the configured address; refuses to expose an unauthenticated API beyond loopback. */
export async function listen(app: OpenAPIHono, config: CoreConfig, logger: Logger): Promise<{ server: ServerType; port: number; close: () => Promise<void> }> {
  const { host, port, tokens } = config.api;
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  if (tokens.length === 0 && !loopback) {
    throw new VeerError(
      'CONFIG',
      `VEER_API_HOST=${host} without VEER_API_TOKENS would expose an unauthenticated API; set VEER_API_TOKENS or VEER_API_TOKENS_FILE, or bind to 127.0.0.1`,
    );
  }
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s));
    s.once('error', reject);
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  if (tokens.length === 0) {
    logger.warn({ host, port: actual }, 'VEER_API_TOKENS is not set: the API has no authentication and listens on loopback only');
  } else {
    logger.info({ host, port: actual, tokens: tokens.length }, 'API requires a bearer token');
  }
  logger.info(`API listening on http://${host.includes(':') ? `[${host}]` : host}:${actual} (OpenAPI: /api/v1/openapi.json)`);
  return {
    server,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        const srv = server as unknown as { closeAllConnections?: () => void; close: (cb: () => void) => void };
        srv.close(() => resolve());
        srv.closeAllConnections?.();
      }),
  };
}
