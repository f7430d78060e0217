/** Building blocks of `veer describe` output: kubectl-style `Field:  value` lines and indented sections. */

/** The annotation `veer apply` sets: the manifest file an object was applied from. */
export const SOURCE_ANNOTATION = 'veer.io/source';

/** `Name:     canary` lines, the values aligned after the longest field name. */
export function fields(pairs: Array<[string, string | number | undefined]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}${v === undefined || v === '' ? '<none>' : v}`.trimEnd()).join('\n') + '\n';
}

/** A titled block, its body indented two spaces; an empty body reads `<none>`. */
export function section(title: string, body: string): string {
  const text = body.trimEnd();
  if (!text) return `${title}:\n  <none>\n`;
  return `${title}:\n${text
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n')}\n`;
}

/** `key=value` per line (labels, env), sorted by key. */
export function keyValues(record: Record<string, unknown> | undefined): string {
  return Object.entries(record ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('\n');
}

/** Compact JSON cut to `max` characters with an ellipsis: a value in a table cell or a field line. */
export function shortJson(value: unknown, max = 60): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** yes / no for table cells. */
export const yesNo = (b: boolean | undefined): string => (b === undefined ? '' : b ? 'yes' : 'no');
