import { CliError, EXIT } from '../errors.ts';
import type { CommandContext } from '../context.ts';
import { getObject, putObject, type ApiFailure, type Obj } from './api.ts';
import { KIND_INFO } from './kinds.ts';
import { withLiveFields } from './live-fields.ts';
import { FAN_OUT, mapLimit } from '../map-limit.ts';
import type { Resolved } from './resolve.ts';
import type { ManifestProblem } from './validate.ts';

export type Outcome = 'created' | 'updated' | 'unchanged';

/** What applying one object would do, as the API's dry run says. */
export interface PlannedObject extends Resolved {
  outcome: Outcome;
  /** The object as GET would answer after the PUT. */
  next: Obj;
  /** The object as GET answers now (only when asked for: diff). */
  current?: Obj;
}

/** A field of the PUT body as it is spelt in the manifest: `trigger.cron` → `spec.trigger.cron`. */
function manifestPath(r: Resolved, apiPath: string): string {
  const top = apiPath.split('.')[0];
  if (top === 'labels' || top === 'annotations') return apiPath;
  if (r.manifest.kind === 'Secret' && top === 'value') return 'spec.valueFrom';
  return apiPath ? `spec.${apiPath}` : 'spec';
}

/** The API's issues as manifest problems, script positions mapped to the script file or manifest line. */
export function problemsOf(r: Resolved, failure: ApiFailure): ManifestProblem[] {
  const { doc } = r.manifest;
  const issues = failure.body.details?.issues ?? [];
  const head = `${failure.body.code ?? `HTTP ${failure.status}`}: ${failure.body.message ?? 'refused'}`;
  if (issues.length === 0) return [{ doc, path: '', message: head }];
  return issues.map((i) => {
    const path = manifestPath(r, i.path ?? '');
    const line = doc.lineOf(path.split('.'));
    const message = i.message ?? head;
    if (i.line === undefined || !path.startsWith('spec.script') || !r.script) return { doc, path, line, message };
    const col = i.column ?? 1;
    if ('file' in r.script) return { doc, path, line, message, at: `${r.script.file}:${i.line}:${col}` };
    if (r.script.firstLine !== undefined) return { doc, path, line: r.script.firstLine + i.line - 1, message, at: `script line ${i.line}, column ${col}` };
    return { doc, path, line, message, at: `script line ${i.line}, column ${col}` };
  });
}

/**
 * Dry-runs every object's PUT (the API makes every check the real PUT makes and writes
 * nothing): the outcome of each, or every problem of every object.
 */
export async function planObjects(
  ctx: CommandContext,
  resolved: Resolved[],
  options: { withCurrent?: boolean; reset?: boolean } = {},
): Promise<{ planned: PlannedObject[]; problems: ManifestProblem[] }> {
  const results = await mapLimit(resolved, FAN_OUT, async (given) => {
    const { kind, name } = given.manifest;
    // One read of the stored object serves both the live fields and the diff.
    const needsLive = !options.reset && (kind === 'Gateway' || kind === 'Deployment');
    const live = needsLive || options.withCurrent ? await getObject(ctx, kind, name) : undefined;
    const r = needsLive ? withLiveFields(given, live) : given;
    const res = await putObject(ctx, kind, name, r.body, true);
    if (!res.ok) return { problems: problemsOf(r, res.failure) };
    const { outcome, object } = res.data as { outcome?: Outcome; object?: Obj };
    // An API without dry runs for this kind would have stored the object: say so, loudly.
    if (!outcome || !object) throw new CliError(`the API does not support PUT /api/v1/${KIND_INFO[kind].plural}/{name}?dryRun=true; upgrade Veer`, EXIT.failed);
    const current = options.withCurrent && outcome !== 'created' ? live : undefined;
    return { planned: { ...r, outcome, next: object, ...(current ? { current } : {}) } satisfies PlannedObject };
  });
  return {
    planned: results.flatMap((x) => ('planned' in x && x.planned ? [x.planned] : [])),
    problems: results.flatMap((x) => ('problems' in x && x.problems ? x.problems : [])),
  };
}
