import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cron } from 'croner';
import { parseCron } from '../../engine/triggers/cron-expression.ts';

/**
 * parseCron drops croner's year table (80 KB per expression; see cron-expression.ts): the
 * ticks it computes must stay exactly croner's own, across DST changes, month, leap-day and
 * year boundaries, forwards (next ticks) and backwards (catch-up's previous tick).
 */
describe('parseCron', () => {
  const cases: Array<[string, string, string]> = [
    ['30 2 * * *', 'Europe/Amsterdam', '2024-03-29T00:00:00Z'], // spring-forward gap on 31 March
    ['*/20 * * * *', 'Europe/Amsterdam', '2024-10-27T00:10:00Z'], // fall-back hour
    ['17 * * * * *', 'Asia/Kolkata', '2026-12-31T18:25:00Z'], // per-minute over a year change (+05:30)
    ['0 9 * * MON-FRI', 'Australia/Adelaide', '2026-04-02T00:00:00Z'], // +10:30 → +09:30 on 5 April
    ['0 0 29 2 *', 'UTC', '2027-01-01T00:00:00Z'], // leap days only: years apart
    ['45 23 L * *', 'America/New_York', '2026-12-15T00:00:00Z'], // last day of the month
  ];

  for (const [expression, timezone, from] of cases) {
    it(`gives croner's own ticks for '${expression}' in ${timezone}`, () => {
      const ours = parseCron(expression, timezone);
      const croners = new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts' });
      const at = new Date(from);
      const iso = (ds: Date[]) => ds.map((d) => d.toISOString());
      assert.deepEqual(iso(ours.nextRuns(6, at)), iso(croners.nextRuns(6, at)));
      assert.deepEqual(iso(ours.previousRuns(6, at)), iso(croners.previousRuns(6, at)));
      assert.equal(ours.nextRuns(6, at).length, 6);
    });
  }

  it('still rejects a timezone that is not IANA, after valid ones were accepted', () => {
    parseCron('* * * * *', 'Asia/Kolkata');
    assert.throws(() => parseCron('* * * * *', 'Mars/Olympus'), /trigger\.timezone/);
    assert.throws(() => parseCron('61 * * * *', 'UTC'), /trigger\.cron/);
  });
});
