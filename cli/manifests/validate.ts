import { API_VERSION, KINDS, NAME_RE, NAME_RULE, ref, type Kind } from './kinds.ts';
import type { SourceDoc } from './load.ts';

/** A document of a known kind with a name and a spec; the spec is not resolved yet (resolve.ts). */
export interface Manifest {
  kind: Kind;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: Record<string, unknown>;
  doc: SourceDoc;
}

/** One problem with one document: where it is (file, document, field) and what is wrong. */
export interface ManifestProblem {
  doc: SourceDoc;
  /** The field path in the manifest (`spec.trigger.cron`), empty for the document itself. */
  path: string;
  message: string;
  /** The manifest line, when known better than the document's first line. */
  line?: number;
  /** Where in a script the problem is: `canary.ts:12:5` or `script line 3`. */
  at?: string;
}

const TOP_LEVEL = new Set(['apiVersion', 'kind', 'name', 'labels', 'annotations', 'spec']);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A literal secret in a manifest is refused: the value would end up in Git. */
export const LITERAL_SECRET = 'secrets in manifests carry only a reference: use valueFrom: { env: NAME } or valueFrom: { file: path }';

/** Checks `valueFrom` (of a Secret's spec, or a Notifier's spec.secret). */
function valueFromProblems(v: unknown, at: string): Array<{ path: string; message: string }> {
  if (!isRecord(v)) return [{ path: at, message: `${LITERAL_SECRET}, not a literal` }];
  if ('value' in v) return [{ path: `${at}.value`, message: LITERAL_SECRET }];
  const from = v.valueFrom;
  if (!isRecord(from)) return [{ path: `${at}.valueFrom`, message: 'required: { env: NAME } or { file: path }' }];
  const keys = Object.keys(from);
  if (keys.length !== 1 || (keys[0] !== 'env' && keys[0] !== 'file'))
    return [{ path: `${at}.valueFrom`, message: 'must have exactly one of env (a variable name) or file (a path next to the manifest)' }];
  const val = from[keys[0]!];
  if (typeof val !== 'string' || val === '') return [{ path: `${at}.valueFrom.${keys[0]}`, message: 'must be a non-empty string' }];
  const extra = Object.keys(v).filter((k) => k !== 'valueFrom');
  return extra.map((k) => ({ path: `${at}.${k}`, message: 'unknown field (a secret reference has only valueFrom)' }));
}

function metadataProblems(v: unknown, field: 'labels' | 'annotations'): Array<{ path: string; message: string }> {
  if (v === undefined) return [];
  if (!isRecord(v)) return [{ path: field, message: 'must be a map of key: value strings' }];
  return Object.entries(v)
    .filter(([, val]) => typeof val !== 'string')
    .map(([k]) => ({ path: `${field}.${k}`, message: 'must be a string (quote numbers and booleans)' }));
}

/**
 * The local checks of every document: its shape (kind, name, spec), the name rules the API
 * applies, and no literal secrets; duplicates across files (names, gateway ports). The API checks the spec itself
 * (plan.ts), so one run reports both kinds of mistakes.
 */
export function validateDocs(docs: SourceDoc[]): { manifests: Manifest[]; problems: ManifestProblem[] } {
  const manifests: Manifest[] = [];
  const problems: ManifestProblem[] = [];
  const seen = new Map<string, SourceDoc>();
  const ports = new Map<number, { name: string; doc: SourceDoc }>();
  for (const doc of docs) {
    const found: Array<{ path: string; message: string }> = [];
    const v = doc.value;
    if (!isRecord(v)) {
      problems.push({ doc, path: '', message: 'a manifest is a map with kind, name and spec' });
      continue;
    }
    for (const k of Object.keys(v)) if (!TOP_LEVEL.has(k)) found.push({ path: k, message: `unknown field (a manifest has ${[...TOP_LEVEL].join(', ')})` });
    if (v.apiVersion !== undefined && v.apiVersion !== API_VERSION) found.push({ path: 'apiVersion', message: `must be ${API_VERSION} (or left out)` });
    const kind = KINDS.find((k) => k === v.kind);
    if (!kind) found.push({ path: 'kind', message: `must be one of ${KINDS.join(', ')}` });
    if (typeof v.name !== 'string' || !NAME_RE.test(v.name)) found.push({ path: 'name', message: NAME_RULE });
    found.push(...metadataProblems(v.labels, 'labels'), ...metadataProblems(v.annotations, 'annotations'));
    const spec = v.spec;
    if (!isRecord(spec)) found.push({ path: 'spec', message: `required: the ${kind ?? 'object'}'s API body (a map)` });
    else {
      for (const k of ['labels', 'annotations'])
        if (k in spec) found.push({ path: `spec.${k}`, message: `put ${k} at the top level of the manifest, beside spec` });
      if (kind === 'Secret') found.push(...valueFromProblems(spec, 'spec'));
      if (kind === 'Notifier' && spec.secret !== undefined && spec.secret !== null) found.push(...valueFromProblems(spec.secret, 'spec.secret'));
      if (kind === 'Workflow' && typeof spec.script !== 'string')
        found.push({ path: 'spec.script', message: 'required: the source, or a path to a .ts/.js/.mjs file next to the manifest' });
    }
    const at = (path: string) => doc.lineOf(path.split('.').filter(Boolean));
    problems.push(...found.map((f) => ({ doc, ...f, line: at(f.path) })));
    if (found.length || !kind || !isRecord(spec)) continue;
    const key = ref(kind, v.name as string);
    const earlier = seen.get(key);
    if (earlier) {
      problems.push({ doc, path: 'name', line: at('name'), message: `${key} is also defined in ${earlier.file} (document ${earlier.index})` });
      continue;
    }
    seen.set(key, doc);
    // Two gateways of these files on one port: each passes the API's dry run (which sees only
    // what is stored), and the second would be refused half-way through the apply.
    if (kind === 'Gateway' && typeof spec.port === 'number') {
      const other = ports.get(spec.port);
      if (other)
        problems.push({
          doc,
          path: 'spec.port',
          line: at('spec.port'),
          message: `port ${spec.port} is also the port of gateway/${other.name} in ${other.doc.file} (document ${other.doc.index})`,
        });
      else ports.set(spec.port, { name: v.name as string, doc });
    }
    manifests.push({
      kind,
      name: v.name as string,
      labels: (v.labels ?? {}) as Record<string, string>,
      annotations: (v.annotations ?? {}) as Record<string, string>,
      spec,
      doc,
    });
  }
  return { manifests, problems };
}

/** `shop/canary.yaml (document 2, line 14): spec.trigger.cron: …` (and `canary.ts:12:5` for scripts). */
export function formatProblem(p: ManifestProblem): string {
  const where = `${p.doc.file} (document ${p.doc.index}, line ${p.line ?? p.doc.line})`;
  return `${where}: ${p.path ? `${p.path}: ` : ''}${p.at ? `${p.at}: ` : ''}${p.message}`;
}
