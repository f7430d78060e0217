import { CliError, EXIT } from '../errors.ts';
import type { CommandContext } from '../context.ts';
import { paintStatus } from '../output.ts';
import { putObject } from './api.ts';
import { KIND_INFO, kindRank, ref } from './kinds.ts';
import type { Outcome, PlannedObject } from './plan.ts';
import { problemsOf } from './plan.ts';
import { formatProblem } from './validate.ts';

export interface AppliedObject {
  kind: string;
  name: string;
  outcome: Outcome | 'pruned';
}

/** Dependencies first (kinds.ts), then by name: a gateway's deployments exist before it routes to them. */
export const applyOrder = (planned: PlannedObject[]): PlannedObject[] =>
  [...planned].sort((a, b) => kindRank(a.manifest.kind) - kindRank(b.manifest.kind) || a.manifest.name.localeCompare(b.manifest.name));

/**
 * Phase 2 of apply: PUTs every object that would change, in dependency order, printing
 * `kind/name outcome` as it goes. Stops at the first refusal (what follows may depend on it),
 * naming what was applied before it.
 */
export async function applyPlanned(ctx: CommandContext, planned: PlannedObject[], report: (o: AppliedObject, line: string) => void): Promise<AppliedObject[]> {
  const done: AppliedObject[] = [];
  for (const p of applyOrder(planned)) {
    const { kind, name } = p.manifest;
    if (p.outcome !== 'unchanged') {
      const res = await putObject(ctx, kind, name, p.body, false).catch((err: unknown) => {
        throw withProgress(err as Error, done);
      });
      if (!res.ok) {
        const why = problemsOf(p, res.failure).map(formatProblem).join('\n  ');
        throw withProgress(new CliError(`${ref(kind, name)} was refused: ${why}`, res.failure.status === 409 ? EXIT.conflict : EXIT.failed), done);
      }
    }
    const o = { kind: KIND_INFO[kind].word, name, outcome: p.outcome };
    done.push(o);
    report(o, `${ref(kind, name)} ${paintStatus(p.outcome)}`);
  }
  return done;
}

function withProgress(err: Error, done: AppliedObject[]): Error {
  const changed = done.filter((d) => d.outcome !== 'unchanged');
  const so = changed.length ? `applied before it: ${changed.map((d) => `${d.kind}/${d.name} ${d.outcome}`).join(', ')}` : 'nothing was applied';
  const exit = err instanceof CliError ? err.exitCode : EXIT.failed;
  return new CliError(`${err.message}\n(${so})`, exit);
}
