import { UnavailableError, VeerError } from '../../engine/shared/errors.ts';

/**
 * Error translation at the Redis edge: whatever ioredis throws when Redis cannot be reached
 * (its retries given up, the socket refused, closed, reset or timed out, a replica that is
 * loading or read-only, a cluster whose slots are moving or down) becomes one typed, retryable
 * error, so nothing above the adapters knows ioredis' messages. Redis' answers to bad commands (a Lua or WRONGTYPE error) are
 * bugs, not outages, and pass through unchanged.
 */
const OUTAGE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const OUTAGE_MESSAGE =
  /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Command timed out|enableOfflineQueue|Reached the max retries|^(LOADING|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN)\b|Too many Cluster redirections|Cluster isn't ready|Failed to refresh slots cache|None of startup nodes is available|All sentinels are unreachable/;

export function isRedisOutage(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof VeerError) return false;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && OUTAGE_CODES.has(code)) return true;
  return OUTAGE_MESSAGE.test(err.message);
}

/** The error every core Redis adapter throws while Redis is unreachable. */
export function redisUnavailable(op: string, err: unknown): UnavailableError {
  const raw = err instanceof Error ? err.message : String(err);
  // ioredis' wording for a command refused while disconnected (connection.ts fails fast) says
  // nothing to a user; what they need to know is that the command was not sent.
  const why = /enableOfflineQueue|Stream isn't writeable/.test(raw) ? 'not connected; the command was not sent' : raw;
  return new UnavailableError(
    'REDIS.UNAVAILABLE',
    `Redis is unreachable (${why}); check that it runs at VEER_REDIS_URL (or VEER_REDIS_CLUSTER_NODES / VEER_REDIS_SENTINELS)`,
    {
      cause: err,
      details: { operation: op },
    },
  );
}

/** Rethrows an outage as `REDIS.UNAVAILABLE`; anything else unchanged. */
export function translateRedisError(op: string, err: unknown): unknown {
  return isRedisOutage(err) ? redisUnavailable(op, err) : err;
}

/** Runs `fn`, translating an outage. */
export async function guard<T>(op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translateRedisError(op, err);
  }
}

/**
 * Wraps every promise-returning method of an adapter object with `guard`, naming the
 * operation `<label>.<method>`. Non-function properties and iterables are left alone.
 */
export function guarded<T extends object>(label: string, target: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(target)) {
    out[name] =
      typeof value === 'function'
        ? (...args: unknown[]) => {
            const res = (value as (...a: unknown[]) => unknown).apply(out, args);
            return res instanceof Promise
              ? res.catch((err) => {
                  throw translateRedisError(`${label}.${name}`, err);
                })
              : res;
          }
        : value;
  }
  return out as T;
}
