import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { VeerError } from '../engine/shared/errors.ts';
import type { Logger } from '../engine/shared/logger.ts';

/** The one place error codes become HTTP statuses. */
const STATUS_BY_CODE: Record<string, number> = {
  VALIDATION: 400,
  UNAUTHORIZED: 401,
  PERMISSION: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
};

export function statusForError(err: VeerError): number {
  if (STATUS_BY_CODE[err.code]) return STATUS_BY_CODE[err.code];
  if (err.code.endsWith('.NOT_FOUND')) return 404;
  if (err.code.endsWith('.CONFLICT')) return 409;
  if (err.code.endsWith('.FORBIDDEN')) return 403;
  if (err.code.endsWith('.INVALID')) return 400;
  if (err.retryable || err.code.endsWith('.UNAVAILABLE')) return 503;
  return 500;
}

/** ioredis gives up on a command after its retries, or the socket is refused/closed. */
function isRedisOutage(err: Error): boolean {
  return err.name === 'MaxRetriesPerRequestError' || /ECONNREFUSED|Connection is closed|ETIMEDOUT/.test(err.message);
}

export function createErrorHandler(logger: Logger) {
  return (err: Error, c: Context) => {
    const requestId = c.get('requestId' as never) as string | undefined;
    if (err instanceof HTTPException) {
      return c.json({ code: 'HTTP', message: err.message, requestId }, err.status);
    }
    if (err instanceof VeerError) {
      const status = statusForError(err);
      if (status >= 500) logger.error({ err, requestId }, 'request failed');
      return c.json({ code: err.code, message: err.message, details: err.details, requestId }, status as 400);
    }
    if (isRedisOutage(err)) {
      logger.warn({ err: err.message, requestId }, 'request failed: Redis unreachable');
      return c.json({ code: 'REDIS.UNAVAILABLE', message: `Redis is unreachable (${err.message}); check that it runs at VEER_REDIS_URL`, requestId }, 503);
    }
    logger.error({ err, requestId }, 'unexpected error');
    return c.json({ code: 'INTERNAL', message: 'internal error; see the server log for request ' + requestId, requestId }, 500);
  };
}
