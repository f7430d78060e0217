import { randomBytes } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { SCOPES } from '../engine/domain/access.ts';
import type { Session, SessionStore } from '../engine/ports/session-store.ts';
import { UnauthorizedError, VeerError } from '../engine/shared/errors.ts';
import type { Logger } from '../engine/shared/logger.ts';
import { findToken, normalise, principalOf, sessionOf, type TokenConfig } from './auth.ts';
import { errorResponse } from './error-body.ts';
import type { LoginLimiter } from './login-limiter.ts';
import { CSRF_HEADER, SESSION_COOKIE } from './session-cookie.ts';
import { createRouter } from './validation.ts';

export interface SessionDeps {
  store: SessionStore;
  ttlMs: number;
  tokens: TokenConfig;
  limiter: LoginLimiter;
  logger: Logger;
}

const SessionInfo = z
  .object({
    name: z.string(),
    scope: z.enum(SCOPES),
    globs: z.array(z.string()).optional(),
    via: z.enum(['open', 'bearer', 'session']).describe('open: the API has no tokens; bearer: an Authorization header; session: the dashboard cookie'),
    csrf: z.string().optional().describe(`For a session: send it as ${CSRF_HEADER} on every request that is not a GET`),
    expiresAt: z.string().optional(),
  })
  .openapi('Session');

/** The address a login came from, for the limiter (the socket's when served, else one bucket). */
function clientAddress(c: Context): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'local';
}

function secureRequest(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

/**
 * Log in (a token for a cookie), who am I, and log out. Mounted before the access middleware:
 * logging in needs no token, and every principal may ask who it is and log out.
 */
export function createSessionRoutes(deps: SessionDeps) {
  const r = createRouter();
  // Named once, as authenticate() names them: a session keeps the name its requests are resolved by.
  const tokens = normalise(deps.tokens);
  r.openapi(
    createRoute({
      method: 'post',
      path: '/session',
      summary: 'Log in to the dashboard: exchanges an API token for an httpOnly, SameSite=Strict session cookie',
      security: [],
      request: { body: { required: true, content: { 'application/json': { schema: z.object({ token: z.string().min(1).max(4096) }).strict() } } } },
      responses: {
        200: { description: 'Logged in; the cookie is set', content: { 'application/json': { schema: SessionInfo } } },
        400: errorResponse('Invalid body'),
        401: errorResponse('Not one of the API tokens'),
        429: errorResponse('Too many failed logins from this address (Retry-After says when to try again)'),
      },
    }),
    async (c) => {
      const address = clientAddress(c);
      const wait = deps.limiter.retryAfter(address);
      if (wait > 0) {
        c.header('retry-after', String(wait));
        throw new VeerError('RATE_LIMITED', `too many failed logins from ${address}; try again in ${wait} s`);
      }
      const token = findToken(tokens, c.req.valid('json').token.trim());
      if (!token) {
        deps.limiter.failed(address);
        throw new UnauthorizedError('not one of the API tokens (VEER_API_TOKENS, VEER_API_TOKENS_FILE)');
      }
      const id = randomBytes(32).toString('base64url');
      const now = Date.now();
      const session: Session = {
        tokenName: token.name,
        csrf: randomBytes(24).toString('base64url'),
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + deps.ttlMs).toISOString(),
      };
      await deps.store.create(id, session);
      setCookie(c, SESSION_COOKIE, id, {
        httpOnly: true,
        sameSite: 'Strict',
        path: '/',
        secure: secureRequest(c),
        maxAge: Math.floor(deps.ttlMs / 1000),
      });
      deps.logger.info({ token: token.name, address }, 'dashboard login');
      return c.json(
        {
          name: token.name,
          scope: token.scope,
          ...(token.globs ? { globs: token.globs } : {}),
          via: 'session' as const,
          csrf: session.csrf,
          expiresAt: session.expiresAt,
        },
        200,
      );
    },
  );
  r.openapi(
    createRoute({
      method: 'get',
      path: '/session',
      summary: 'Who the caller is: the token behind the session cookie or bearer header, with its scope (and the CSRF token of a session)',
      responses: { 200: { description: 'The caller', content: { 'application/json': { schema: SessionInfo } } } },
    }),
    (c) => {
      const principal = principalOf(c);
      if (!principal) throw new UnauthorizedError();
      const held = sessionOf(c);
      const via = held ? ('session' as const) : c.req.header('authorization') ? ('bearer' as const) : ('open' as const);
      return c.json({ ...principal, via, ...(held ? { csrf: held.session.csrf, expiresAt: held.session.expiresAt } : {}) }, 200);
    },
  );
  r.openapi(
    createRoute({
      method: 'delete',
      path: '/session',
      summary: 'Log out: forgets the session and clears its cookie',
      responses: { 204: { description: 'Logged out (also when there was no session)' } },
    }),
    async (c) => {
      const held = sessionOf(c);
      if (held) await deps.store.delete(held.id);
      deleteCookie(c, SESSION_COOKIE, { path: '/', secure: secureRequest(c) });
      return c.body(null, 204);
    },
  );
  return r;
}
