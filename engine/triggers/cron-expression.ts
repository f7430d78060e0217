import { Cron } from 'croner';
import { ValidationError } from '../shared/errors.ts';

/** Zones already checked: building an Intl.DateTimeFormat costs ~0.1–0.7 ms, once per zone is enough. */
const knownZones = new Set<string>();

/**
 * Parses a cron expression (5 fields, or 6 with leading seconds) in an IANA timezone.
 * Throws a ValidationError naming `trigger.cron` / `trigger.timezone`.
 */
export function parseCron(expression: string, timezone: string): Cron {
  if (!knownZones.has(timezone)) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    } catch {
      throw new ValidationError(`trigger.timezone: '${timezone}' is not an IANA timezone (e.g. UTC, Europe/Amsterdam)`, [
        { path: 'trigger.timezone', message: `'${timezone}' is not an IANA timezone` },
      ]);
    }
    knownZones.add(timezone);
  }
  try {
    return withoutYearTable(new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts' }));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ValidationError(`trigger.cron: '${expression}' is not a valid cron expression: ${why}`, [{ path: 'trigger.cron', message: why }]);
  }
}

/**
 * croner (11) keeps a 10,000-entry table of allowed years per expression, ~80 KB: 800 MB of
 * heap per engine for 10,000 cron workflows. It reads the table only when the year field is
 * not `*`, and with 5 or 6 fields it always is, so the table is dropped. Checked by
 * test/triggers/cron-expression.test.ts against croner's own answers (a croner upgrade that
 * starts reading it fails there).
 */
function withoutYearTable(cron: Cron): Cron {
  const pattern = (cron as unknown as { _states?: { pattern?: { starYear?: boolean; year?: number[] } } })._states?.pattern;
  if (pattern?.starYear === true && Array.isArray(pattern.year)) pattern.year = [];
  return cron;
}
