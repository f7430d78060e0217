import type { Command } from 'commander';
import type { CommandContext } from '../context.ts';
import { CliError, EXIT, usageError } from '../errors.ts';
import { paint } from '../output.ts';
import { followSse } from '../sse.ts';
import { runOutcomeError, type Run } from './run.ts';

interface LogEntry {
  seq: number;
  time: string;
  level: string;
  message: string;
  fields?: Record<string, unknown>;
  attempt?: number;
}

const LEVEL_STYLE: Record<string, Parameters<typeof paint>[0]> = { error: 'red', warn: 'yellow', debug: 'dim' };

/** `TIME LEVEL message {fields}`: one line per entry, greppable. */
export function formatLogLine(e: LogEntry): string {
  const level = e.level.toUpperCase().padEnd(5);
  const fields = e.fields && Object.keys(e.fields).length ? ` ${JSON.stringify(e.fields)}` : '';
  return `${e.time} ${LEVEL_STYLE[e.level] ? paint(LEVEL_STYLE[e.level]!, level) : level} ${e.message}${fields}`;
}

/** The newest run of a workflow (`logs --workflow`), or not found when it has none. */
async function latestRunId(ctx: CommandContext, workflow: string): Promise<string> {
  const client = await ctx.client();
  const { runs } = await ctx.send(client.GET('/api/v1/workflows/{name}/runs', { params: { path: { name: workflow }, query: { limit: 1 } } }));
  const run = runs[0];
  if (!run) throw new CliError(`workflow ${workflow} has no runs yet (veer run ${workflow} starts one)`, EXIT.notFound);
  return run.id;
}

async function printLog(ctx: CommandContext, id: string): Promise<void> {
  const client = await ctx.client();
  const entries: LogEntry[] = [];
  const limit = 10_000;
  // Pages until a short one: a long run's log is more than one answer.
  for (let after = 0; ;) {
    const page = await ctx.send(client.GET('/api/v1/runs/{id}/logs', { params: { path: { id }, query: { after, limit } } }));
    const got = (page as { entries: LogEntry[] }).entries;
    entries.push(...got);
    if (got.length < limit) break;
    after = got[got.length - 1]!.seq;
  }
  ctx.print(entries, () => entries.map(formatLogLine).join('\n'));
}

/** Follows the run's log until its `end` event; exits 1 when the run did not succeed. */
async function followLog(ctx: CommandContext, id: string): Promise<void> {
  const conn = await ctx.connection();
  const url = `${conn.url.replace(/\/+$/, '')}/api/v1/runs/${encodeURIComponent(id)}/logs`;
  const structured = ctx.format() !== 'table';
  let final: Run | undefined;
  const how = await followSse(url, {
    token: conn.token,
    signal: ctx.signal,
    events: ['log', 'end'],
    onStatus: (status, detail) => ctx.err(status === 'reconnecting' ? `connection lost (${detail}); reconnecting…` : 'reconnected'),
    onEvent(ev) {
      if (ev.type === 'end') {
        final = JSON.parse(ev.data) as Run;
        return true;
      }
      const entry = JSON.parse(ev.data) as LogEntry;
      // JSON Lines: one object per line, for `| jq -c`.
      ctx.out(structured ? JSON.stringify(entry) : formatLogLine(entry));
    },
  });
  if (how === 'aborted' || !final) return;
  const failed = runOutcomeError(final);
  if (failed) throw failed;
}

export function registerLogs(program: Command, ctx: CommandContext): void {
  program
    .command('logs')
    .description("A run's log: TIME LEVEL message {fields}; -f follows it live until the run ends (exit 1 if it did not succeed)")
    .argument('[run-id]', 'the run (see veer get runs)')
    .option('-f, --follow', 'follow the log live (Server-Sent Events), surviving API restarts')
    .option('--workflow <name>', "the workflow's latest run instead of a run id")
    .action(async (runId: string | undefined, opts: { follow?: boolean; workflow?: string }) => {
      if (runId && opts.workflow) throw usageError('give a run id or --workflow, not both');
      if (!runId && !opts.workflow) throw usageError('give a run id, or --workflow <name> for its latest run');
      const id = runId ?? (await latestRunId(ctx, opts.workflow!));
      if (opts.follow) await followLog(ctx, id);
      else await printLog(ctx, id);
    });
}
