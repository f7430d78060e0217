import type { Issue } from '../shared/errors.ts';

/**
 * The generic half of the host boundary: a script's arguments arrive as one JSON string, and
 * this turns them into data the engine can hold safely — objects with a null prototype (so
 * no lookup by a user-chosen name can reach Object.prototype, and no assignment of one can
 * change it), no key named `__proto__`, `constructor` or `prototype` at any depth, and every
 * dimension bounded, so that no argument is expensive to walk, copy or store.
 */
export interface HostArgLimits {
  /** The whole argument list as JSON. */
  maxChars: number;
  maxDepth: number;
  maxStringChars: number;
  /** Object keys are strings too, but also end up in paths and messages. */
  maxKeyChars: number;
  maxArrayItems: number;
  /** Keys of one object. */
  maxKeys: number;
  /** Values in all arguments together. */
  maxNodes: number;
}

export const DEFAULT_HOST_ARG_LIMITS: HostArgLimits = {
  maxChars: 1024 * 1024 + 1024,
  maxDepth: 32,
  maxStringChars: 64 * 1024,
  maxKeyChars: 1024,
  maxArrayItems: 10_000,
  maxKeys: 1000,
  maxNodes: 100_000,
};

/** Keys that mean something to JavaScript objects; refused anywhere in an argument. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Thrown with the argument's index and the path inside it. */
export class HostArgError extends Error {
  readonly index: number;
  readonly issue: Issue;
  constructor(index: number, issue: Issue) {
    super(issue.message);
    this.index = index;
    this.issue = issue;
  }
}

/** The argument list, or a HostArgError naming the argument (index -1: the list itself). */
export function parseHostArgs(json: string, limits: HostArgLimits = DEFAULT_HOST_ARG_LIMITS): unknown[] {
  if (json.length > limits.maxChars)
    throw new HostArgError(-1, { path: '', message: `arguments are ${json.length} characters of JSON, more than ${limits.maxChars}` });
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new HostArgError(-1, { path: '', message: 'arguments are not valid JSON' });
  }
  if (!Array.isArray(raw)) throw new HostArgError(-1, { path: '', message: 'arguments are not a list' });
  let nodes = 0;

  const copy = (value: unknown, index: number, path: string, depth: number): unknown => {
    if (++nodes > limits.maxNodes) throw new HostArgError(index, { path, message: `more than ${limits.maxNodes} values in the arguments` });
    if (value === null || typeof value === 'boolean' || typeof value === 'number') return value;
    if (typeof value === 'string') {
      if (value.length > limits.maxStringChars) {
        throw new HostArgError(index, { path, message: `a string of ${value.length} characters is longer than ${limits.maxStringChars}` });
      }
      return value;
    }
    if (depth >= limits.maxDepth) throw new HostArgError(index, { path, message: `nested deeper than ${limits.maxDepth} levels` });
    if (Array.isArray(value)) {
      if (value.length > limits.maxArrayItems) {
        throw new HostArgError(index, { path, message: `a list of ${value.length} items is longer than ${limits.maxArrayItems}` });
      }
      const out: unknown[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) out[i] = copy(value[i], index, `${path}[${i}]`, depth + 1);
      return out;
    }
    if (typeof value === 'object') {
      const keys = Object.keys(value);
      if (keys.length > limits.maxKeys) throw new HostArgError(index, { path, message: `an object with ${keys.length} keys has more than ${limits.maxKeys}` });
      const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const k of keys) {
        if (FORBIDDEN_KEYS.has(k)) throw new HostArgError(index, { path, message: `key "${k}" is not allowed` });
        if (k.length > limits.maxKeyChars)
          throw new HostArgError(index, { path, message: `a key of ${k.length} characters is longer than ${limits.maxKeyChars}` });
        out[k] = copy((value as Record<string, unknown>)[k], index, `${path}.${k}`, depth + 1);
      }
      return out;
    }
    // JSON.parse yields nothing else; kept so a future parser cannot slip a function through.
    throw new HostArgError(index, { path, message: `unsupported value of type ${typeof value}` });
  };

  return raw.map((arg, i) => copy(arg, i, '', 0));
}
