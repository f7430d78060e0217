import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { paint } from '../output.ts';
import type { Obj } from './api.ts';
import { KIND_INFO, ref, type Kind } from './kinds.ts';
import type { Outcome } from './plan.ts';

/** One changed field: a unified diff (scripts), old/new values, or a note (secret values are never shown). */
export interface Change {
  /** As spelt in the manifest: `spec.trigger.cron`, `labels.app`. */
  path: string;
  old?: unknown;
  new?: unknown;
  /** Unified diff of a script, files named a/<name>.ts and b/<name>.ts. */
  patch?: string;
  note?: string;
}

export interface ObjectDiff {
  kind: Kind;
  name: string;
  outcome: Outcome;
  changes: Change[];
}

const isPlain = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a GET shows minus the fields the server sets: the spec, labels and annotations. */
export function comparable(kind: Kind, obj: Obj | undefined): Obj {
  if (!obj) return {};
  const server = new Set(KIND_INFO[kind].serverFields);
  return Object.fromEntries(Object.entries(obj).filter(([k, v]) => !server.has(k) && v !== undefined));
}

const same = (a: unknown, b: unknown) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (isPlain(v))
    return Object.fromEntries(
      Object.keys(v)
        .filter((k) => v[k] !== undefined)
        .sort()
        .map((k) => [k, sorted(v[k])]),
    );
  return v;
}

const manifestPath = (keys: string[]) => (keys[0] === 'labels' || keys[0] === 'annotations' ? keys.join('.') : ['spec', ...keys].join('.'));

/** Changed fields, at the deepest map key where old and new differ (lists compare whole). */
function walk(a: unknown, b: unknown, keys: string[], out: Change[]): void {
  if (same(a, b)) return;
  if (isPlain(a) && isPlain(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) walk(a[k], b[k], [...keys, k], out);
    return;
  }
  out.push({ path: manifestPath(keys), ...(a === undefined ? {} : { old: a }), ...(b === undefined ? {} : { new: b }) });
}

/** What applying would change on one object: the current GET against the dry run's `object`. */
export function diffObject(kind: Kind, name: string, outcome: Outcome, current: Obj | undefined, next: Obj): ObjectDiff {
  const a = comparable(kind, current);
  const b = comparable(kind, next);
  const changes: Change[] = [];
  if (kind === 'Workflow' && a.script !== b.script) {
    const patch = createTwoFilesPatch(
      `a/${name}.ts`,
      `b/${name}.ts`,
      typeof a.script === 'string' ? a.script : '',
      typeof b.script === 'string' ? b.script : '',
    );
    changes.push({ path: 'spec.script', patch: patch.replace(/^=+\n/, '') });
  }
  const { script: _a, ...restA } = a;
  const { script: _b, ...restB } = b;
  walk(kind === 'Workflow' ? restA : a, kind === 'Workflow' ? restB : b, [], changes);
  // The API never shows secret values: an update that changes nothing visible changed the value.
  if (kind === 'Secret' && outcome !== 'unchanged' && (outcome === 'created' || changes.length === 0))
    changes.unshift({ path: 'spec.valueFrom', note: outcome === 'created' ? 'value set' : 'value changed' });
  if (kind === 'Notifier' && outcome === 'updated' && changes.length === 0) changes.push({ path: 'spec.secret', note: 'secret changed' });
  // The compared GET shows a local deployment's command and instances, not its env, healthCheck
  // or cwd (the whole definition is an admin read: GET /deployments/{name}/definition).
  if (kind === 'Deployment' && outcome === 'updated' && changes.length === 0)
    changes.push({
      path: 'spec',
      note: 'env, healthCheck or cwd changed (not in the compared GET; an admin sees them with GET /deployments/{name}/definition)',
    });
  return { kind, name, outcome, changes };
}

/** A value as YAML lines (a map or list spreads over several, each marked). */
const yamlLines = (v: unknown) => stringify(v).trimEnd().split('\n');

/** The human diff: a header per object, the script as a unified diff first, then `- old / + new` per field. */
export function formatDiff(d: ObjectDiff): string {
  const lines = [paint('bold', `${ref(d.kind, d.name)} (${d.outcome})`)];
  for (const c of d.changes) {
    if (c.patch !== undefined) {
      for (const l of c.patch.replace(/\n$/, '').split('\n'))
        lines.push(l.startsWith('+') && !l.startsWith('+++') ? paint('green', l) : l.startsWith('-') && !l.startsWith('---') ? paint('red', l) : l);
    } else if (c.note !== undefined) lines.push(`  ${c.path}: ${c.note}`);
    else {
      lines.push(`  ${c.path}:`);
      if ('old' in c) lines.push(...yamlLines(c.old).map((l) => paint('red', `  - ${l}`)));
      if ('new' in c) lines.push(...yamlLines(c.new).map((l) => paint('green', `  + ${l}`)));
    }
  }
  return `${lines.join('\n')}\n`;
}
