import { CliError, EXIT } from '../errors.ts';
import type { CommandContext } from '../context.ts';
import { loadManifests, type LoadProblem } from './load.ts';
import { planObjects, type PlannedObject } from './plan.ts';
import { resolveManifests } from './resolve.ts';
import { formatProblem, validateDocs, type Manifest, type ManifestProblem } from './validate.ts';

const byPlace = (a: ManifestProblem, b: ManifestProblem) => a.doc.file.localeCompare(b.doc.file) || a.doc.index - b.doc.index || (a.line ?? 0) - (b.line ?? 0);

const formatLoadProblem = (p: LoadProblem) => `${p.file} (document ${p.index}${p.line ? `, line ${p.line}` : ''}): ${p.message}`;

/** Every problem, one per line, under a count: the error apply/diff exit 1 with, nothing applied. */
function invalid(load: LoadProblem[], problems: ManifestProblem[]): CliError {
  const lines = [...load.map(formatLoadProblem), ...[...problems].sort(byPlace).map(formatProblem)];
  const n = lines.length;
  return new CliError(`${n} problem${n === 1 ? '' : 's'} in the manifests; nothing was applied\n${lines.map((l) => `  ${l}`).join('\n')}`, EXIT.failed);
}

/** The manifests of `-f` paths read and checked locally (shape, names, secret references), or every problem. */
export async function loadAndValidate(paths: string[], cwd: string): Promise<Manifest[]> {
  const { docs, problems: load } = await loadManifests(paths, cwd);
  const { manifests, problems } = validateDocs(docs);
  if (load.length || problems.length) throw invalid(load, problems);
  return manifests;
}

/**
 * Phase 1 of apply and all of diff: read, check locally, resolve and dry-run every document.
 * Every document is checked even when an earlier one failed, so one run lists every mistake;
 * any problem throws (exit 1) before anything is written.
 */
export async function prepare(ctx: CommandContext, paths: string[], options: { withCurrent?: boolean; reset?: boolean } = {}): Promise<PlannedObject[]> {
  const cwd = process.cwd();
  const { docs, problems: load } = await loadManifests(paths, cwd);
  const { manifests, problems } = validateDocs(docs);
  const { resolved, problems: unresolved } = await resolveManifests(manifests, ctx.env, cwd);
  const { planned, problems: refused } = await planObjects(ctx, resolved, options);
  const all = [...problems, ...unresolved, ...refused];
  if (load.length || all.length) throw invalid(load, all);
  return planned;
}
