import { z } from 'zod';
import { ValidationError, VeerError, type Issue } from './errors.ts';

export type { Issue } from './errors.ts';

/**
 * The one conversion from zod issues to error details. Every issue of the input is
 * reported at once (zod checks every field of an object; callers that add their own
 * checks merge them with `validationErrorOf` instead of stopping at the first), paths are
 * joined by dots under `prefix`, and a union that matched no option says which shapes it
 * accepts (see `explainUnion`).
 */
export interface IssueOptions {
  /** Prepended to every path: `trigger` turns `cron` into `trigger.cron`. */
  prefix?: string;
  /** The path of an issue about the whole input. Default '(body)'. */
  root?: string;
  /** Starts the error message: `invalid event` → `invalid event: tags: …`. */
  title?: string;
}

function optionsOf(options: string | IssueOptions | undefined): IssueOptions {
  return typeof options === 'string' ? { prefix: options } : (options ?? {});
}

export function issuesFromZod(error: z.ZodError, options?: string | IssueOptions): Issue[] {
  const { prefix = '', root = '(body)' } = optionsOf(options);
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || root,
    message: i.message,
  }));
}

/** `a.b: …; script: line 2, column 13: …`, the message form of a list of issues (positions where known). */
export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `${i.path}: ${positionOf(i)}${i.message}`).join('; ');
}

function positionOf(i: Issue): string {
  if (i.line === undefined) return i.column === undefined ? '' : `column ${i.column}: `;
  return i.column === undefined ? `line ${i.line}: ` : `line ${i.line}, column ${i.column}: `;
}

/** One ValidationError for issues gathered from several checks. */
export function validationErrorOf(issues: Issue[], title?: string): ValidationError {
  const list = formatIssues(issues);
  return new ValidationError(title ? `${title}: ${list}` : list, issues);
}

/** A ValidationError whose message lists every issue (`a.b: …; c: …`). */
export function validationErrorFromZod(error: z.ZodError, options?: string | IssueOptions): ValidationError {
  return validationErrorOf(issuesFromZod(error, options), optionsOf(options).title);
}

/** The issues a thrown ValidationError carries; undefined for any other error. */
export function issuesOfError(err: unknown): Issue[] | undefined {
  if (!(err instanceof VeerError) || err.code !== 'VALIDATION') return undefined;
  const issues = (err.details as { issues?: unknown } | undefined)?.issues;
  return Array.isArray(issues) ? (issues as Issue[]) : undefined;
}

// --- Unions -------------------------------------------------------------------------

type AnySchema = z.core.$ZodType;
interface Def {
  type: string;
  [key: string]: unknown;
}
const defOf = (s: AnySchema): Def => s._zod.def as unknown as Def;

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'catch', 'success']);
const MAX_KEYS = 8;

function isOptional(s: AnySchema): boolean {
  const t = defOf(s).type;
  return t === 'optional' || t === 'default' || t === 'prefault';
}

/**
 * A short picture of what a schema accepts: `{ host, port }`, `[{ host, port }]`,
 * `string`, `'http' | 'tcp'`. Object keys are listed (optional ones with `?`), values of
 * nested objects are not: the point is to tell options apart, not to repeat the schema.
 */
export function describeSchema(schema: AnySchema, depth = 0): string {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type)) return describeSchema(def.innerType as AnySchema, depth);
  switch (def.type) {
    case 'pipe':
      return describeSchema(def.in as AnySchema, depth);
    case 'lazy':
      return depth > 2 ? 'value' : describeSchema((def.getter as () => AnySchema)(), depth + 1);
    case 'object': {
      const shape = def.shape as Record<string, AnySchema>;
      const keys = Object.keys(shape);
      if (depth > 1) return 'object';
      const shown = keys.slice(0, MAX_KEYS).map((k) => (isOptional(shape[k]) ? `${k}?` : k));
      if (keys.length > MAX_KEYS) shown.push('…');
      return keys.length ? `{ ${shown.join(', ')} }` : 'object';
    }
    case 'array':
      return `[${describeSchema(def.element as AnySchema, depth + 1)}]`;
    case 'tuple':
      return `[${(def.items as AnySchema[]).map((i) => describeSchema(i, depth + 1)).join(', ')}]`;
    case 'record':
      return depth > 1 ? 'object' : `{ [key]: ${describeSchema(def.valueType as AnySchema, depth + 1)} }`;
    case 'union':
      return unique((def.options as AnySchema[]).map((o) => describeSchema(o, depth + 1))).join(' | ');
    case 'enum':
      return Object.values(def.entries as Record<string, string | number>)
        .map((v) => JSON.stringify(v))
        .join(' | ');
    case 'literal':
      return (def.values as unknown[]).map((v) => JSON.stringify(v)).join(' | ');
    default:
      // string, number, boolean, null, date, unknown, …: the type's name is the picture.
      return def.type;
  }
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/**
 * The message of an `invalid_union` issue: which shapes the union accepts, derived from
 * its options (`Invalid input: expected [{ host, port }] or { deployment, port }`) instead
 * of zod's bare "Invalid input". Undefined when the issue is not a union's or the union
 * has its own message.
 */
export function explainUnion(issue: { code?: string; inst?: unknown }): string | undefined {
  if (issue.code !== 'invalid_union') return undefined;
  const inst = issue.inst as AnySchema | undefined;
  const def = inst?._zod?.def as Def | undefined;
  if (!def || def.type !== 'union' || !Array.isArray(def.options)) return undefined;
  const shapes = unique((def.options as AnySchema[]).map((o) => describeSchema(o)));
  return `Invalid input: expected ${orList(shapes)}`;
}

// zod computes a message when an issue is finalised, with the failing schema still at hand;
// that is the only point where a union's options are known, so the explanation is
// installed as zod's process-wide fallback message (a schema's own `error` still wins, and
// every other issue keeps zod's message). Importing this module installs it.
z.config({ customError: (issue) => explainUnion(issue as { code?: string; inst?: unknown }) });
