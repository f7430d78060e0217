/** A JSON text field's value: undefined when left empty; an Error naming the field when it is not JSON. */
export function parseJsonField(label: string, text: string): { value: unknown } | Error {
  if (!text.trim()) return { value: undefined };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return new Error(`${label} is not valid JSON: ${err instanceof Error ? err.message : String(err)}. Nothing was sent.`);
  }
}

/** A value as compact, bounded text for a table cell. */
export function preview(value: unknown, max = 200): string {
  const text = value === undefined ? '—' : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
