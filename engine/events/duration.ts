import { ValidationError } from '../shared/errors.ts';

/** '500ms' | '30s' | '5m' | '1h' → ms; throws ValidationError naming `what`. */
export function parseDuration(value: unknown, what: string): number {
  const m = typeof value === 'string' ? /^(\d+)(ms|s|m|h)$/.exec(value.trim()) : null;
  if (!m) {
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
    throw new ValidationError(`${what}: must be a duration like 30s, 5m or 1h`, [{ path: what, message: 'must be a duration like 30s, 5m or 1h' }]);
  }
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3600_000 }[m[2] as 'ms'];
}
