import type { Command } from 'commander';
import type { paths } from '../api/schema.ts';
import { parseJsonFlag, parseWhole } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { formatDuration, formatTable, paintStatus } from '../output.ts';

export type Run = paths['/api/v1/runs/{id}']['get']['responses'][200]['content']['application/json'];
interface DryRunEffect {
  capability: string;
  target: string;
  before?: unknown;
  after?: unknown;
}

/** The run's outcome for the exit code: a run that did not succeed fails the command. */
export function runOutcomeError(run: Pick<Run, 'id' | 'status' | 'error'>): CliError | undefined {
  if (run.status === 'succeeded') return undefined;
  const e = run.error;
  const at = e?.line !== undefined ? ` (line ${e.line}, column ${e.column ?? 1})` : '';
  return new CliError(`run ${run.id} ${run.status}${e ? `: ${e.code}: ${e.message}${at}` : ''}`, EXIT.failed);
}

const compact = (v: unknown): string => (v === undefined ? '-' : JSON.stringify(v));

/** A dry run's planned effects, in order: what it would have changed, nothing applied. */
function effectsTable(effects: DryRunEffect[]): string {
  if (effects.length === 0) return 'no effects: the run would change nothing\n';
  return formatTable(
    ['capability', 'target', 'before', 'after'],
    effects.map((e) => [e.capability, e.target, compact(e.before), compact(e.after)]),
  );
}

function describeRun(run: Run): string {
  const head = `run ${run.id}  ${paintStatus(run.status)}${run.durationMs !== undefined ? `  in ${formatDuration(run.durationMs)}` : ''}${run.dryRun ? '  (dry run)' : ''}`;
  const lines = [head];
  if (run.status === 'queued' || run.status === 'running') lines.push(`follow it: veer logs -f ${run.id}`);
  if (run.error) {
    const at = run.error.line !== undefined ? ` (line ${run.error.line}, column ${run.error.column ?? 1})` : '';
    lines.push(`error: ${run.error.code}: ${run.error.message}${at}`);
  }
  if (run.dryRun && run.status === 'succeeded') {
    const r = (run.result ?? {}) as { value?: unknown; effects?: DryRunEffect[] };
    lines.push(`value: ${compact(r.value)}`, '', effectsTable(r.effects ?? []).trimEnd());
  } else if (run.status === 'succeeded') lines.push(`result: ${compact(run.result)}`);
  return lines.join('\n');
}

export function registerRun(program: Command, ctx: CommandContext): void {
  program
    .command('run')
    .description('Start a run of a workflow; --wait prints its outcome (exit 1 unless it succeeded), --dry-run lists what it would change')
    .argument('<workflow>', 'the workflow to run')
    .option('--input <json>', "the run's input (ctx.input), as JSON: --input '{\"n\": 21}'")
    .option('--wait', 'wait for the run to end and print its status, duration and result')
    .option('--dry-run', 'reads are real, changes are listed and not applied (implies --wait)')
    .option('--timeout <ms>', 'how long --wait waits (default: the workflow timeout plus retries, at most 5 minutes)')
    .action(async (workflow: string, opts: { input?: string; wait?: boolean; dryRun?: boolean; timeout?: string }) => {
      const input = parseJsonFlag('--input', opts.input);
      const timeoutMs = opts.timeout === undefined ? undefined : parseWhole('--timeout', opts.timeout, 1);
      // A dry run's only output is its result: there is nothing to print before it ends.
      const wait = Boolean(opts.wait || opts.dryRun);
      const client = await ctx.client();
      const run = await ctx.send(
        client.POST('/api/v1/workflows/{name}/runs', {
          params: { path: { name: workflow }, query: { ...(wait ? { wait: 'true' as const } : {}), ...(timeoutMs ? { timeoutMs } : {}) } },
          body: { ...(input !== undefined ? { input } : {}), ...(opts.dryRun ? { dryRun: true } : {}) },
        }),
      );
      ctx.print(run, () => describeRun(run));
      if (!wait) return;
      if (run.status === 'queued' || run.status === 'running')
        throw new CliError(`run ${run.id} is still ${run.status} after the wait (--timeout); veer logs -f ${run.id} follows it`, EXIT.failed);
      const failed = runOutcomeError(run);
      if (failed) throw failed;
    });
}
