import type { paths } from '../../../../cli/api/schema.ts';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;

/** A run as the API answers it (GET /api/v1/runs/{id}). */
export type Run = Json<paths['/api/v1/runs/{id}']['get']['responses'][200]>;
/** One line of a run's log. */
export type LogEntry = Json<paths['/api/v1/runs/{id}/logs']['get']['responses'][200]>['entries'][number];

/** engine/domain/run.ts RUN_STATUSES (the UI must not import the engine). */
export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled'] as const;

export function isFinal(status: string | undefined): boolean {
  return status !== undefined && status !== 'queued' && status !== 'running';
}

/** What started a run, in a few words: "manual", "cron 12:00", "event 01H…". */
export function triggerText(trigger: Run['trigger']): string {
  const t = trigger as Record<string, unknown>;
  const extra = t.tick ?? t.eventId ?? t.name ?? t.index;
  return typeof extra === 'string' ? `${trigger.type} ${extra}` : trigger.type;
}

/** The run's duration: its recorded one, or (while running) the time since it started. */
export function runDuration(run: Run, now = Date.now()): number | undefined {
  if (run.durationMs !== undefined) return run.durationMs;
  if (run.startedAt && !isFinal(run.status)) return now - Date.parse(run.startedAt);
  if (run.startedAt && run.finishedAt) return Date.parse(run.finishedAt) - Date.parse(run.startedAt);
  return undefined;
}
