import { Cron } from 'croner';
import { ValidationError } from '../shared/errors.ts';

/**
 * Parses a cron expression (5 fields, or 6 with leading seconds) in an IANA timezone.
 * Throws a ValidationError naming `trigger.cron` / `trigger.timezone`.
 */
export function parseCron(expression: string, timezone: string): Cron {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new ValidationError(`trigger.timezone: '${timezone}' is not an IANA timezone (e.g. UTC, Europe/Amsterdam)`, [
      { path: 'trigger.timezone', message: `'${timezone}' is not an IANA timezone` },
    ]);
  }
  try {
    return new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts' });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ValidationError(`trigger.cron: '${expression}' is not a valid cron expression: ${why}`, [{ path: 'trigger.cron', message: why }]);
  }
}
