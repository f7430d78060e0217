import { UnavailableError, VeerError } from '../../engine/shared/errors.ts';

/**
 * Error constructors shared by the KV adapters. Vendor errors are translated here, at the
 * edge, into the stable codes the API and the gateway agent classify by:
 * - `KV.UNAVAILABLE` (retryable): the store failed or is unreachable. For a write this means
 *   "unknown outcome": the write was either applied whole or not at all, never half.
 * - `KV.CONFLICT`: a compare-and-set (`ifRevision`) did not match; details name both revisions.
 * - `KV.INVALID`: a bad key, prefix, position or option (caller bug, not retryable).
 * - `KV.COMPACTED`: a watch position is older than the history the store keeps (or, for
 *   stores without history, unknown to this store instance): `list()` again and watch from
 *   the new position.
 * - `KV.FORBIDDEN`: the store's ACLs refuse Veer's credentials for a key under the prefix.
 *   Never a CAS conflict and never "the keys are gone": a filtered read fails with it, so a
 *   watcher keeps the last state it had. Not retryable by the caller; it needs a person.
 * - `KV.TOO_LARGE`: a write over the store's request size limit; not retryable.
 */
export interface KvErrorContext {
  kind: string;
  url: string;
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code) ? `${cause.message} (${code})` : cause.message;
  }
  return String(cause);
}

export function kvUnavailable(ctx: KvErrorContext, op: string, key: string, cause: unknown): VeerError {
  if (cause instanceof VeerError) return cause;
  return new UnavailableError(
    'KV.UNAVAILABLE',
    `${ctx.kind} at ${ctx.url} is unreachable or failing during ${op} ${key || '(root)'}: ${describe(cause)} — check VEER_KV_URL and that ${ctx.kind} is running`,
    { cause, details: { store: ctx.kind, url: ctx.url, op, key } },
  );
}

export function kvConflict(ctx: KvErrorContext, op: string, key: string, expected: string, actual: string): VeerError {
  const now = actual === '0' ? 'the key does not exist' : `its revision is ${actual}`;
  const wanted = expected === '0' ? 'expected it to be absent' : `expected revision ${expected}`;
  return new VeerError('KV.CONFLICT', `${ctx.kind}: ${op} ${key} lost a race: ${wanted} but ${now}; read it again and retry`, {
    details: { store: ctx.kind, op, key, expected, actual },
  });
}

/** `why` says what was refused ("may not write veer/…"); the message names the settings to check. */
export function kvForbidden(ctx: KvErrorContext, op: string, key: string, why: string, cause?: unknown): VeerError {
  return new VeerError(
    'KV.FORBIDDEN',
    `${ctx.kind} at ${ctx.url} refused ${op} ${key || '(root)'}: ${why} — give the token in VEER_KV_TOKEN read and write on the prefix (VEER_KV_PREFIX)`,
    { cause, details: { store: ctx.kind, url: ctx.url, op, key } },
  );
}

/** `size` is unknown when the store, not Veer, measured it (a 413 from a lower server limit). */
export function kvTooLarge(ctx: KvErrorContext, op: string, key: string, size: number | undefined, limit: number, why: string): VeerError {
  const is = size === undefined ? 'is' : `is ${size} bytes,`;
  return new VeerError('KV.TOO_LARGE', `${ctx.kind}: ${op} ${key} ${is} over the ${limit}-byte limit (${why}); it is not retried`, {
    details: { store: ctx.kind, op, key, size, limit },
  });
}

export function kvInvalid(kind: string, message: string, details?: unknown): VeerError {
  return new VeerError('KV.INVALID', `${kind}: ${message}`, { details });
}

export function kvCompacted(kind: string, prefix: string, position: string, why: string): VeerError {
  return new VeerError(
    'KV.COMPACTED',
    `${kind}: cannot watch ${prefix || '(root)'} from position ${position}: ${why}; list() again and watch from its position`,
    {
      details: { store: kind, prefix, position },
    },
  );
}

/** Settles with `promise`, or rejects with `onTimeout()` after `ms`: no store call may hang forever. */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function timeoutError(ms: number): Error {
  const err = new Error(`no answer within ${ms} ms`);
  (err as { code?: string }).code = 'ETIMEDOUT';
  return err;
}
