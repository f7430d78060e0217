import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Server-side dry runs of the applyable PUTs (`?dryRun=true`): every check the real PUT makes,
 * nothing written, and an answer saying what the PUT would do to the stored object.
 */
export const DRY_RUN_OUTCOMES = ['created', 'updated', 'unchanged'] as const;
export type DryRunOutcome = (typeof DRY_RUN_OUTCOMES)[number];

export const DryRunQuerySchema = z.object({
  dryRun: z
    .enum(['true', 'false'])
    .optional()
    .describe('true: run every check of this PUT and write nothing; the answer is 200 `{ outcome, object }` (what the PUT would store)'),
});

/** JSON with object keys sorted, so equal plain-JSON values give equal text whatever their key order. */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.keys(value)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => [k, stable((value as Record<string, unknown>)[k])]),
    );
  return value;
}

/** Deep equality of plain JSON values (key order and `undefined` members ignored, as JSON.stringify drops them). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(stable(a)) === JSON.stringify(stable(b));
}

/** `created` without a stored object, else `unchanged` when the stored spec equals what the PUT would store. */
export function outcomeOf(current: unknown, next: unknown): DryRunOutcome {
  if (current === undefined) return 'created';
  return jsonEqual(current, next) ? 'unchanged' : 'updated';
}

/** Whether two secret values are equal, in constant time (SHA-256 digests are of equal length whatever the values). */
export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(a), digest(b));
}
