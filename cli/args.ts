import { usageError } from './errors.ts';

/** A JSON flag value (`--input '{"n":1}'`), or a usage error naming the flag. */
export function parseJsonFlag(flag: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(`${flag}: not JSON (${(err as Error).message}); e.g. ${flag} '{"n": 1}'`);
  }
}

/** `stable=90 canary=10` → { stable: 90, canary: 10 } (whole numbers; each key once). */
export function parseAssignments(what: string, items: string[], value: (raw: string, key: string) => number): Record<string, number> {
  if (items.length === 0) throw usageError(`${what}: give at least one name=value`);
  const out: Record<string, number> = {};
  for (const item of items) {
    const at = item.indexOf('=');
    if (at <= 0) throw usageError(`${what}: '${item}' is not name=value`);
    const key = item.slice(0, at);
    if (key in out) throw usageError(`${what}: '${key}' is given twice`);
    out[key] = value(item.slice(at + 1), key);
  }
  return out;
}

/** A whole number within [min, max], or a usage error naming what it is. */
export function parseWhole(what: string, raw: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw usageError(`${what}: '${raw}' is not a whole number from ${min} to ${max}`);
  return n;
}

/** Repeatable flags (`-f a -f b`, `--tag x --tag y`): commander's argParser that collects them. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `2s`, `500ms`, `1m` or plain seconds, for --interval. */
export function parseInterval(flag: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000) : NaN;
  if (!m || !(ms >= 100)) throw usageError(`${flag}: '${raw}' is not a duration of at least 100ms (e.g. 2s, 500ms, 1m)`);
  return ms;
}
