import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { ANONYMOUS, type ApiToken, type Principal, type Scope } from '../engine/domain/access.ts';
import { UnauthorizedError } from '../engine/shared/errors.ts';

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Configured tokens; a plain string is an admin token (what VEER_API_TOKENS always meant). */
export type TokenConfig = ReadonlyArray<ApiToken | string>;

function normalise(tokens: TokenConfig): ApiToken[] {
  let n = 0;
  return tokens.map((t) => (typeof t === 'string' ? { name: `env-token-${++n}`, scope: 'admin', token: t } : t));
}

/**
 * A bearer token good for one route only (Alertmanager's VEER_ALERTMANAGER_TOKEN on its webhook),
 * accepted beside the API tokens: a sender configured with it can do nothing else, and it is
 * refused (401) on every other path.
 */
export interface RouteToken {
  method: string;
  /** The full path, /api/v1 included. */
  path: string;
  name: string;
  scope: Scope;
  token: string;
}

const PRINCIPAL = 'veer.principal';

/**
 * Who is calling, as `authenticate` found it (anonymous admin when the API has no tokens);
 * undefined when the request did not pass `authenticate`, which callers treat as unauthenticated.
 */
export function principalOf(c: Context): Principal | undefined {
  return c.get(PRINCIPAL as never) as Principal | undefined;
}

/**
 * Bearer-token check for /api/v1: finds which configured token was sent and records its
 * principal (name, scope, globs) for the access middleware; with no tokens configured it
 * lets everything through as `anonymous` (the server then binds to loopback only).
 * Every token is compared, in constant time each, so timing tells nothing about which matched.
 */
export function authenticate(config: TokenConfig, routeTokens: readonly RouteToken[] = []): MiddlewareHandler {
  const tokens = normalise(config);
  return async (c, next) => {
    if (tokens.length === 0) {
      c.set(PRINCIPAL as never, ANONYMOUS as never);
      return next();
    }
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) throw new UnauthorizedError();
    const sent = match[1].trim();
    let found: ApiToken | undefined;
    for (const t of tokens) if (equal(t.token, sent) && !found) found = t;
    let routed: RouteToken | undefined;
    for (const t of routeTokens) if (equal(t.token, sent) && !routed) routed = t;
    if (!found && routed && c.req.method.toUpperCase() === routed.method && c.req.path === routed.path) found = routed;
    if (!found) throw new UnauthorizedError();
    const principal: Principal = { name: found.name, scope: found.scope, ...(found.globs ? { globs: found.globs } : {}) };
    c.set(PRINCIPAL as never, principal as never);
    return next();
  };
}
