import { readFile, stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { SOURCE_ANNOTATION } from './kinds.ts';
import type { Manifest, ManifestProblem } from './validate.ts';

/** Where a workflow's script came from, to map the API's line/column back to it. */
export type ScriptOrigin = { file: string } | { inline: true; firstLine?: number };

/** A manifest turned into the exact PUT body of its kind. */
export interface Resolved {
  manifest: Manifest;
  body: Record<string, unknown>;
  script?: ScriptOrigin;
}

const SCRIPT_PATH = /^[^\n\r]+\.(ts|js|mjs)$/;

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/** Reads `valueFrom: { env }` (from ctx.env) or `{ file }` (next to the manifest). */
async function valueOf(ref: { valueFrom: { env?: string; file?: string } }, dir: string, env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  const { env: name, file } = ref.valueFrom;
  if (name !== undefined) {
    const v = env[name];
    if (v === undefined || v === '') throw new Error(`environment variable ${name} is not set (valueFrom.env)`);
    return v;
  }
  const path = resolve(dir, file!);
  const text = await readFile(path, 'utf8').catch(() => {
    throw new Error(`cannot read ${relative(cwd, path) || path} (valueFrom.file)`);
  });
  // `echo token > file` adds a newline nobody means as part of the secret.
  return text.replace(/\r?\n$/, '');
}

/**
 * Script files, secret references and the recorded source: the PUT body each manifest stands
 * for. `veer.io/source` is the file relative to the cwd and the document number, unless the
 * manifest names one itself (an export writes the recorded one back, so that applying an
 * export changes nothing: see export.ts).
 */
export async function resolveManifests(
  manifests: Manifest[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ resolved: Resolved[]; problems: ManifestProblem[] }> {
  const resolved: Resolved[] = [];
  const problems: ManifestProblem[] = [];
  for (const m of manifests) {
    const { doc } = m;
    const meta = { labels: m.labels, annotations: { [SOURCE_ANNOTATION]: `${doc.file}#${doc.index}`, ...m.annotations } };
    // The field a failure is about: the script path, or the secret reference.
    const field = m.kind === 'Workflow' ? 'spec.script' : m.kind === 'Secret' ? 'spec.valueFrom' : 'spec.secret';
    try {
      resolved.push(await resolveOne(m, meta, env, cwd));
    } catch (err) {
      problems.push({ doc, path: field, message: (err as Error).message, line: doc.lineOf(field.split('.')) });
    }
  }
  return { resolved, problems };
}

async function resolveOne(m: Manifest, meta: Record<string, unknown>, env: NodeJS.ProcessEnv, cwd: string): Promise<Resolved> {
  const { doc } = m;
  if (m.kind === 'Workflow') {
    const script = (m.spec.script as string).trim();
    if (!SCRIPT_PATH.test(script))
      return { manifest: m, body: { ...m.spec, ...meta }, script: { inline: true, firstLine: doc.blockStart(['spec', 'script']) } };
    const path = resolve(doc.dir, script);
    const shown = relative(cwd, path) || path;
    if (!(await isFile(path))) throw new Error(`script file ${shown} does not exist (a single line ending in .ts/.js/.mjs is a path relative to the manifest)`);
    return { manifest: m, body: { ...m.spec, script: await readFile(path, 'utf8'), ...meta }, script: { file: shown } };
  }
  if (m.kind === 'Secret') return { manifest: m, body: { value: await valueOf(m.spec as never, doc.dir, env, cwd), ...meta } };
  if (m.kind === 'Notifier' && m.spec.secret !== undefined && m.spec.secret !== null)
    return { manifest: m, body: { ...m.spec, secret: await valueOf(m.spec.secret as never, doc.dir, env, cwd), ...meta } };
  return { manifest: m, body: { ...m.spec, ...meta } };
}
