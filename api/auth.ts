import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { UnauthorizedError } from '../engine/shared/errors.ts';

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Bearer-token check for /api/v1; with no tokens configured it lets everything through. */
export function bearerAuth(tokens: string[]): MiddlewareHandler {
  return async (c, next) => {
    if (tokens.length === 0) return next();
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !tokens.some((t) => equal(t, match[1].trim()))) throw new UnauthorizedError();
    return next();
  };
}
