import { styleText } from 'node:util';
import Table from 'cli-table3';
import { stringify } from 'yaml';
import { usageError } from './errors.ts';

export type OutputFormat = 'table' | 'json' | 'yaml';

export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'table' || value === 'wide') return 'table';
  if (value === 'json' || value === 'yaml') return value;
  throw usageError(`-o/--output must be json, yaml or table, not '${value}'`);
}

/** JSON (2-space, one document) or YAML of plain data, for scripts and `jq`. */
export function formatData(data: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : stringify(data);
}

type Style = Parameters<typeof styleText>[0];

/**
 * Colour only when stdout is a terminal and NO_COLOR is unset: styleText checks the stream
 * (isTTY, NO_COLOR, FORCE_COLOR, TERM=dumb) itself.
 */
export function paint(style: Style, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return styleText(style, text, { stream, validateStream: true });
}

const STATUS_STYLE: Record<string, Style> = {
  succeeded: 'green',
  ready: 'green',
  live: 'green',
  created: 'green',
  failed: 'red',
  timed_out: 'red',
  degraded: 'red',
  rolled_back: 'red',
  deleted: 'red',
  cancelled: 'yellow',
  running: 'cyan',
  queued: 'cyan',
  progressing: 'cyan',
  updated: 'yellow',
  paused: 'yellow',
};

/** A status word in its colour (on a terminal). */
export const paintStatus = (status: string): string => (STATUS_STYLE[status] ? paint(STATUS_STYLE[status], status) : status);

/** An aligned table without borders, like kubectl's: upper-case headers, two spaces between columns. */
export function formatTable(headers: string[], rows: Array<Array<string | number | undefined>>): string {
  const table = new Table({
    head: headers.map((h) => h.toUpperCase()),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const row of rows) table.push(row.map((c) => (c === undefined || c === '' ? '-' : String(c))));
  // cli-table3 pads the last column too; trailing spaces only get in the way of grep and diff.
  return `${table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')}\n`;
}

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'always', style: 'narrow' });
const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
];

/** "5s ago", "3m ago", "in 2h": the age of a timestamp (ISO or epoch ms) against now. */
export function relativeTime(when: string | number | undefined, now = Date.now()): string {
  if (when === undefined || when === null || when === '') return '-';
  const t = typeof when === 'number' ? when : Date.parse(when);
  if (!Number.isFinite(t)) return String(when);
  const diff = t - now;
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms || unit === 'second') {
      const n = Math.round(diff / ms);
      return rtf.format(n === 0 ? -0 : n, unit);
    }
  }
  return '-';
}

/** "1.2s", "340ms", "2m05s": a duration for a table cell. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m${String(s).padStart(2, '0')}s`;
}
