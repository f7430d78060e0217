import type { SecretRedactor } from '../ports/sandbox-host.ts';

export const REDACTED = '***';

/**
 * The forms a secret takes when a script passes it on by mistake: as it is, base64 (standard
 * and URL-safe, with and without padding, as `btoa` and Buffer write it), percent-encoded (a
 * URL or form body) and JSON-escaped (inside a JSON string, when it holds quotes or
 * backslashes). Nested encodings (base64 of `user:secret`) are beyond reach: a script that
 * builds a credential that way must not log it; the README says so.
 */
function formsOf(value: string): string[] {
  const b64 = Buffer.from(value, 'utf8').toString('base64');
  const unpadded = b64.replace(/=+$/, '');
  const url = unpadded.replace(/\+/g, '-').replace(/\//g, '_');
  const forms = [value, b64, unpadded, url, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)];
  return [...new Set(forms.filter((f) => f.length > 0))];
}

/**
 * One run's redactor. Longer forms are replaced first, so a secret that contains another
 * registered one is replaced whole. Strings are replaced by splitting (no regex: a secret may
 * hold any character).
 */
export function createRedactor(): SecretRedactor {
  let forms: string[] = [];
  const redactString = (s: string): string => {
    let out = s;
    for (const f of forms) if (out.includes(f)) out = out.split(f).join(REDACTED);
    return out;
  };
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return redactString(v);
    // Deeper than results may nest (RESULT.UNSERIALISABLE past 100): left to the store to refuse.
    if (v === null || typeof v !== 'object' || depth > 200) return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[redactString(k)] = walk(x, depth + 1);
    return out;
  };
  return {
    add(value) {
      if (typeof value !== 'string' || value.length === 0) return;
      forms = [...new Set([...forms, ...formsOf(value)])].sort((a, b) => b.length - a.length);
    },
    redact<T>(value: T): T {
      return forms.length === 0 ? value : (walk(value, 0) as T);
    },
  };
}
