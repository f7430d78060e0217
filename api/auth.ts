import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { ANONYMOUS, type ApiToken, type Principal, type Scope } from '../engine/domain/access.ts';
import type { Session, SessionStore } from '../engine/ports/session-store.ts';
import { UnauthorizedError, VeerError } from '../engine/shared/errors.ts';
import { READS } from './access-policy.ts';
import { CSRF_HEADER, readSessionCookie } from './session-cookie.ts';

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Configured tokens; a plain string is an admin token (what VEER_API_TOKENS always meant). */
export type TokenConfig = ReadonlyArray<ApiToken | string>;

export function normalise(tokens: TokenConfig): ApiToken[] {
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
const SESSION = 'veer.session';

/** The configured token whose secret is `sent`, comparing every one in constant time. */
export function findToken(tokens: readonly ApiToken[], sent: string): ApiToken | undefined {
  let found: ApiToken | undefined;
  for (const t of tokens) if (equal(t.token, sent) && !found) found = t;
  return found;
}

/** The dashboard session the request was authenticated by, if it was. */
export function sessionOf(c: Context): { id: string; session: Session } | undefined {
  return c.get(SESSION as never) as { id: string; session: Session } | undefined;
}

/**
 * A session's requests that change something must carry its CSRF token, and a browser's Origin
 * (sent on every cross-site POST) must be this host: a page elsewhere can make the browser send
 * the cookie but can read neither the token nor forge the Origin. SameSite=Strict already keeps
 * the cookie off cross-site requests; this holds even where a browser or proxy gets that wrong.
 */
function checkCsrf(c: Context, session: Session): void {
  if (READS.includes(c.req.method.toUpperCase())) return;
  const origin = c.req.header('origin');
  if (origin && origin !== 'null' && new URL(origin).host !== new URL(c.req.url).host)
    throw new VeerError('CSRF', `a dashboard request from another origin (${origin}) is refused`);
  const sent = c.req.header(CSRF_HEADER) ?? '';
  if (!equal(sent, session.csrf))
    throw new VeerError('CSRF', `a dashboard request that changes something needs the session's ${CSRF_HEADER} header (GET /api/v1/session has it)`);
}

/** Names this machine answers to: what a request to a loopback-only API carries as its Host. */
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/i;

/**
 * Without tokens the API is open, but to this machine's programs only (it listens on loopback):
 * not to the web pages its browser opens. A page on another site can make the browser send a
 * request (its Origin then names that site: refused when it changes something), and a DNS-
 * rebinding page can even reach loopback under its own name (its Host is then not a loopback
 * name: refused, reads too). curl and the CLI send no Origin and a loopback Host.
 */
function checkOpenApi(c: Context): void {
  const host = c.req.header('host');
  if (host && !LOOPBACK_HOST.test(host))
    throw new VeerError(
      'CSRF',
      `a request for host '${host.slice(0, 100)}' is refused: without VEER_API_TOKENS the API answers only to loopback names (127.0.0.1, localhost)`,
    );
  if (READS.includes(c.req.method.toUpperCase())) return;
  const origin = c.req.header('origin');
  if (!origin || origin === 'null') return;
  let from: string;
  try {
    from = new URL(origin).host;
  } catch {
    from = origin;
  }
  if (!LOOPBACK_HOST.test(from))
    throw new VeerError(
      'CSRF',
      `a request from the web page ${origin.slice(0, 200)} is refused: without VEER_API_TOKENS the API takes changes only from this machine's programs and its own dashboard`,
    );
}

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
 * Without an Authorization header, the dashboard's session cookie (api/session.ts) stands in for it.
 */
export function authenticate(config: TokenConfig, routeTokens: readonly RouteToken[] = [], sessions?: SessionStore): MiddlewareHandler {
  const tokens = normalise(config);
  return async (c, next) => {
    if (tokens.length === 0) {
      checkOpenApi(c);
      c.set(PRINCIPAL as never, ANONYMOUS as never);
      return next();
    }
    const header = c.req.header('authorization') ?? '';
    if (!header && sessions) {
      const held = await readSessionCookie(c, sessions);
      // By name: a token removed from the configuration ends its sessions at once.
      const token = held && tokens.find((t) => t.name === held.session.tokenName);
      if (!held || !token) throw new UnauthorizedError('no bearer token, and no dashboard session (it expired or its token was removed): log in again');
      checkCsrf(c, held.session);
      c.set(SESSION as never, held as never);
      c.set(PRINCIPAL as never, { name: token.name, scope: token.scope, ...(token.globs ? { globs: token.globs } : {}) } as never);
      return next();
    }
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) throw new UnauthorizedError();
    const sent = match[1].trim();
    let found = findToken(tokens, sent);
    let routed: RouteToken | undefined;
    for (const t of routeTokens) if (equal(t.token, sent) && !routed) routed = t;
    if (!found && routed && c.req.method.toUpperCase() === routed.method && c.req.path === routed.path) found = routed;
    if (!found) throw new UnauthorizedError();
    const principal: Principal = { name: found.name, scope: found.scope, ...(found.globs ? { globs: found.globs } : {}) };
    c.set(PRINCIPAL as never, principal as never);
    return next();
  };
}
