import { formatDuration, formatTable, paintStatus, relativeTime } from '../output.ts';
import type { LogEntry, Run } from '../resources.ts';
import { fields, section, shortJson } from './text.ts';

/** A finished run's duration, or how long a running one has been going. */
export function runDuration(r: Run, now = Date.now()): string {
  if (r.durationMs !== undefined) return formatDuration(r.durationMs);
  if (r.status === 'running' && r.startedAt) return formatDuration(now - Date.parse(r.startedAt));
  return '';
}

/** The trigger type (`manual`, `cron`, `event`, `elasticsearch`, `signal`), marked for a dry run. */
export function runTrigger(r: Run): string {
  return r.dryRun ? `${r.trigger.type} (dry run)` : r.trigger.type;
}

export function runsTable(runs: Run[]): string {
  return formatTable(
    ['ID', 'WORKFLOW', 'STATUS', 'TRIGGER', 'STARTED', 'DURATION'],
    runs.map((r) => [r.id, r.workflow, paintStatus(r.status), runTrigger(r), relativeTime(r.startedAt ?? r.queuedAt), runDuration(r)]),
  );
}

/** What `veer describe run` puts together (also its -o json shape). */
export interface RunDescription {
  run: Run;
  /** The last lines of its log. */
  logs: LogEntry[];
}

const when = (iso: string | undefined) => (iso ? `${iso} (${relativeTime(iso)})` : undefined);

export function describeRun(d: RunDescription): string {
  const r = d.run;
  const at = r.error?.line !== undefined ? ` (line ${r.error.line}, column ${r.error.column ?? 1})` : '';
  let out = fields([
    ['ID', r.id],
    ['Workflow', `${r.workflow} (version ${r.workflowVersion})`],
    ['Status', paintStatus(r.status)],
    ['Trigger', runTrigger(r)],
    ['Attempts', `${r.attempts} of ${r.maxAttempts}${r.interrupted ? ` (${r.interrupted} interrupted)` : ''}`],
    ['Engine', r.engineId],
    ['Queued', when(r.queuedAt)],
    ['Started', when(r.startedAt)],
    ['Finished', when(r.finishedAt)],
    ['Duration', runDuration(r)],
    ['Input', r.input === undefined ? undefined : shortJson(r.input, 400)],
    // A failed run has an error and no result; a finished one its result (null included).
    r.error ? ['Error', `${r.error.code}: ${r.error.message}${at}`] : ['Result', r.result === undefined ? undefined : shortJson(r.result, 400)],
    ...(r.budget?.exceeded ? [['Budget exceeded', r.budget.exceeded] as [string, string]] : []),
  ]);
  out += section(
    `Logs (last ${d.logs.length})`,
    d.logs
      .map(
        (l) => `${l.time}  ${l.level.toUpperCase().padEnd(5)}  ${l.message}${l.fields && Object.keys(l.fields).length ? ` ${shortJson(l.fields, 200)}` : ''}`,
      )
      .join('\n'),
  );
  return out;
}
