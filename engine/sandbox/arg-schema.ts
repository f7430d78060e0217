import type { Issue } from '../shared/errors.ts';

/**
 * A tiny schema language for capability arguments, checked at the host boundary after the
 * generic parse (host-args.ts) has turned them into null-prototype plain data. It only checks
 * (types, sizes, key names); it never copies or converts, so what passes is exactly the parsed
 * data. Written by hand rather than with zod so that it reads only own keys of null-prototype
 * objects and every check is linear in the input.
 */
export interface ArgSchema {
  /** What it accepts, for messages: "a string", "an object". */
  expected: string;
  /** The first problem, with its path below `path`, or undefined when the value fits. */
  check(value: unknown, path: string): Issue | undefined;
}

const got = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v);
const issue = (path: string, message: string): Issue => ({ path, message });
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function str(o: { min?: number; max: number; test?: (s: string) => boolean; rule?: string }): ArgSchema {
  const min = o.min ?? 0;
  return {
    expected: 'a string',
    check: (v, path) => {
      if (typeof v !== 'string') return issue(path, `expected a string, got ${got(v)}`);
      if (v.length < min) return issue(path, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
      if (v.length > o.max) return issue(path, `must be at most ${o.max} characters, got ${v.length}`);
      if (o.test && !o.test(v)) return issue(path, o.rule ?? 'invalid');
      return undefined;
    },
  };
}

export function num(o: { int?: boolean; min?: number; max?: number } = {}): ArgSchema {
  return {
    expected: o.int ? 'a whole number' : 'a number',
    check: (v, path) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return issue(path, `expected ${o.int ? 'a whole number' : 'a number'}, got ${got(v)}`);
      if (o.int && !Number.isInteger(v)) return issue(path, `expected a whole number, got ${v}`);
      if (o.min !== undefined && v < o.min) return issue(path, `must be at least ${o.min}, got ${v}`);
      if (o.max !== undefined && v > o.max) return issue(path, `must be at most ${o.max}, got ${v}`);
      return undefined;
    },
  };
}

export function oneOf(...values: string[]): ArgSchema {
  const list = values.map((v) => `'${v}'`).join(', ');
  return {
    expected: `one of ${list}`,
    check: (v, path) => (typeof v === 'string' && values.includes(v) ? undefined : issue(path, `expected one of ${list}`)),
  };
}

/** The first alternative whose type fits decides; its problem is reported. */
export function either(...options: ArgSchema[]): ArgSchema {
  const expected = options.map((o) => o.expected).join(' or ');
  return {
    expected,
    check: (v, path) => {
      let firstIssue: Issue | undefined;
      for (const o of options) {
        const found = o.check(v, path);
        if (!found) return undefined;
        // A problem below this path means the type fitted and something inside did not.
        if (found.path !== path) return found;
        firstIssue ??= found;
      }
      return firstIssue && issue(path, `expected ${expected}`);
    },
  };
}

export function nullable(s: ArgSchema): ArgSchema {
  return { expected: `${s.expected} or null`, check: (v, path) => (v === null ? undefined : s.check(v, path)) };
}

export function list(item: ArgSchema, max: number): ArgSchema {
  return {
    expected: 'a list',
    check: (v, path) => {
      if (!Array.isArray(v)) return issue(path, `expected a list, got ${got(v)}`);
      if (v.length > max) return issue(path, `at most ${max} items, got ${v.length}`);
      for (let i = 0; i < v.length; i++) {
        const found = item.check(v[i], `${path}[${i}]`);
        if (found) return found;
      }
      return undefined;
    },
  };
}

/** An object of user-chosen keys (route names, …), each checked by `key`. */
export function record(key: ArgSchema, value: ArgSchema, maxKeys: number): ArgSchema {
  return {
    expected: 'an object',
    check: (v, path) => {
      if (!isRecord(v)) return issue(path, `expected an object, got ${got(v)}`);
      const keys = Object.keys(v);
      if (keys.length > maxKeys) return issue(path, `at most ${maxKeys} keys, got ${keys.length}`);
      for (const k of keys) {
        const bad = key.check(k, `${path}.${k}`);
        if (bad) return issue(bad.path, `key: ${bad.message}`);
        const found = value.check(v[k], `${path}.${k}`);
        if (found) return found;
      }
      return undefined;
    },
  };
}

/** An object with known fields, all optional unless listed in `required`; any other key is refused. */
export function shape(fields: Record<string, ArgSchema>, required: readonly string[] = []): ArgSchema {
  const known = new Map(Object.entries(fields));
  return {
    expected: 'an object',
    check: (v, path) => {
      if (!isRecord(v)) return issue(path, `expected an object, got ${got(v)}`);
      for (const k of Object.keys(v)) {
        if (!known.has(k)) return issue(`${path}.${k}`, `unknown field '${k}' (known: ${[...known.keys()].join(', ')})`);
      }
      for (const [k, s] of known) {
        if (!Object.hasOwn(v, k)) {
          if (required.includes(k)) return issue(`${path}.${k}`, `required (${s.expected})`);
          continue;
        }
        const found = s.check(v[k], `${path}.${k}`);
        if (found) return found;
      }
      return undefined;
    },
  };
}

/** Any plain data: host-args.ts has already bounded its size, depth and keys. */
export const anyData: ArgSchema = { expected: 'any JSON value', check: () => undefined };
