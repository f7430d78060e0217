import { ValidationError } from '../../shared/errors.ts';

/**
 * Route weights are whole percentages that sum to 100, or are all 0 (only conditions route
 * traffic). Missing weights share what is left evenly; the remainder of the division goes to
 * the first of them, so the result never depends on anything but the input order.
 *
 * `given` keeps route order. Returns every route's weight, or throws a ValidationError that
 * says what the weights added up to.
 */
export function normaliseWeights(given: Array<[route: string, weight: number | undefined]>, path = 'routes'): Record<string, number> {
  if (given.length === 0) throw new ValidationError(`${path}: a gateway needs at least one route`, [{ path, message: 'needs at least one route' }]);
  const bad = given.find(([, w]) => w !== undefined && (!Number.isInteger(w) || w < 0 || w > 100));
  if (bad) {
    const p = `${path}.${bad[0]}.weight`;
    throw new ValidationError(`${p}: must be a whole percentage between 0 and 100, got ${bad[1]}`, [
      { path: p, message: 'must be a whole percentage between 0 and 100' },
    ]);
  }
  const explicit = given.filter(([, w]) => w !== undefined) as Array<[string, number]>;
  const missing = given.filter(([, w]) => w === undefined).map(([r]) => r);
  const sum = explicit.reduce((s, [, w]) => s + w, 0);
  const spelled = explicit.map(([r, w]) => `${r} ${w}`).join(' + ');

  if (missing.length === 0) {
    if (sum === 100 || sum === 0) return Object.fromEntries(explicit);
    const message = `route weights must add up to 100 (or all be 0), but they add up to ${sum} (${spelled})`;
    throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
  }
  if (sum > 100) {
    const message = `route weights must add up to 100, but the given ones already add up to ${sum} (${spelled}) before filling in ${missing.join(', ')}`;
    throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
  }
  const left = 100 - sum;
  const share = Math.floor(left / missing.length);
  let remainder = left - share * missing.length;
  const filled = new Map<string, number>();
  for (const r of missing) {
    filled.set(r, share + (remainder > 0 ? 1 : 0));
    if (remainder > 0) remainder--;
  }
  return Object.fromEntries(given.map(([r, w]) => [r, w ?? filled.get(r)!]));
}

/** "a 90 → 80, b 10 → 20" for run logs and events; unchanged routes are left out. */
export function describeWeightChange(before: Record<string, number>, after: Record<string, number>): string {
  const parts = Object.keys({ ...before, ...after })
    .filter((r) => before[r] !== after[r])
    .map((r) => `${r} ${before[r] ?? '-'} → ${after[r] ?? '-'}`);
  return parts.length ? parts.join(', ') : 'unchanged';
}
