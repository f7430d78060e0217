import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { catalogueEntry } from '../engine/shared/error-catalogue.ts';
import { ValidationError, VeerError } from '../engine/shared/errors.ts';
import { silentLogger, type Logger } from '../engine/shared/logger.ts';
import { errorBody } from './error-body.ts';

/**
 * The one place errors become HTTP answers: the status and the log level come from the
 * error catalogue by `code` (never from `instanceof` or message matching: adapters translate
 * vendor errors, e.g. a Redis outage, into catalogued codes at the edge).
 */
export function statusForError(err: VeerError): number {
  return catalogueEntry(err.code, err.retryable).status;
}

function requestIdOf(c: Context): string | undefined {
  return c.get('requestId' as never) as string | undefined;
}

/** Logs `err` at its catalogued level and answers with its status and the one error body. */
export function respondWithError(c: Context, err: VeerError, logger: Logger): Response {
  const requestId = requestIdOf(c);
  const { status, level } = catalogueEntry(err.code, err.retryable);
  // The stack only helps for what needs a person; the rest is logged by code and message.
  if (level === 'error') logger.error({ err, code: err.code, requestId }, 'request failed');
  else logger[level]({ code: err.code, err: err.message, requestId }, 'request failed');
  return c.json(errorBody(err, requestId), status as 400);
}

export function createErrorHandler(logger: Logger) {
  return (err: Error, c: Context) => {
    // A body that is not JSON is the caller's mistake like any other: VALIDATION naming `body`.
    if (err instanceof HTTPException && err.status === 400 && /malformed json/i.test(err.message)) {
      const message = 'the request body is not valid JSON; send a JSON document with Content-Type: application/json';
      return respondWithError(c, new ValidationError(message, [{ path: 'body', message: 'malformed JSON' }]), logger);
    }
    if (err instanceof HTTPException) {
      // The framework's other refusals keep their status.
      return c.json(errorBody({ code: 'HTTP', message: err.message }, requestIdOf(c)), err.status);
    }
    if (err instanceof VeerError) return respondWithError(c, err, logger);
    const requestId = requestIdOf(c);
    logger.error({ err, requestId }, 'unexpected error');
    // Logged with its stack just above; the INTERNAL answer is not logged a second time.
    return respondWithError(c, new VeerError('INTERNAL', `internal error; see the server log for request ${requestId}`), silentLogger());
  };
}
