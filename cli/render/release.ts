import { formatTable, paintStatus, relativeTime } from '../output.ts';

/**
 * What workflows/canary-release.ts keeps in its state (`release`, `history`): only the fields
 * the CLI shows, all optional, so a state from an older or newer canary still renders.
 */
export interface CanaryRelease {
  id?: string;
  phase?: string;
  stepIndex?: number;
  weight?: number;
  failures?: number;
  noDataStreak?: number;
  pausedSince?: string | null;
  startedAt?: string;
  finishedAt?: string;
  reason?: string;
}
interface RouteNumbers {
  requests?: number | null;
  errorRate?: number | null;
  p99?: number | null;
  latency?: number | null;
}
export interface CanaryHistoryEntry {
  time?: string;
  weight?: number;
  action?: string;
  phase?: string;
  verdict?: { outcome?: string; canary?: RouteNumbers; stable?: RouteNumbers; note?: string };
  reason?: string;
  signals?: string[];
  count?: number;
  last?: string;
}
export interface WorkflowInfo {
  env?: Record<string, unknown>;
  paused?: { by?: string; at?: string; reason?: string } | null;
}

const percent = (v: number | null | undefined) => (typeof v === 'number' ? `${Number((v * 100).toFixed(2))}%` : undefined);
const ms = (v: number | null | undefined) => (typeof v === 'number' ? `${v}ms` : undefined);

/** How many entries STEPS has (the canary's env), for "step 2/5"; undefined when it cannot tell. */
function stepCount(env: Record<string, unknown> | undefined): number | undefined {
  const raw = env?.STEPS ?? '[5, 25, 50, 100]';
  try {
    const steps = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
    if (!Array.isArray(steps)) return undefined;
    // An object with both a weight and a pause is two steps to the canary.
    return steps.reduce<number>((n, s) => n + (s && typeof s === 'object' && 'weight' in s && 'pause' in s ? 2 : 1), 0);
  } catch {
    return undefined;
  }
}

/** The release's header and its history of checks, oldest first; `now` for relative times. */
export function renderRelease(workflow: string, release: CanaryRelease, history: CanaryHistoryEntry[], wf: WorkflowInfo, now = Date.now()): string {
  const total = stepCount(wf.env);
  const index = release.stepIndex ?? -1;
  const step = index < 0 ? 'not started' : `${index + 1}${total ? `/${total}` : ''}`;
  const phase = `${paintStatus(release.phase ?? 'unknown')}${release.phase === 'paused' && release.pausedSince ? ` (since ${relativeTime(release.pausedSince, now)})` : ''}`;
  const last = history[history.length - 1];
  const rows: Array<[string, string]> = [
    ['Workflow', workflow],
    ['Release', release.id ?? '-'],
    ['Phase', phase],
    ['Step', `${step}, canary weight ${release.weight ?? 0}%`],
    ['Failures', `${release.failures ?? 0}${release.noDataStreak ? `, ${release.noDataStreak} no-data check(s) in a row` : ''}`],
    ['Started', relativeTime(release.startedAt, now)],
  ];
  if (release.finishedAt) rows.push(['Finished', relativeTime(release.finishedAt, now)]);
  rows.push([
    'Triggers',
    wf.paused ? `paused by ${wf.paused.by ?? '?'} ${relativeTime(wf.paused.at, now)}${wf.paused.reason ? `: ${wf.paused.reason}` : ''}` : 'active',
  ]);
  const reason = release.reason ?? last?.reason ?? last?.verdict?.note;
  if (reason) rows.push(['Reason', reason]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const header = rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join('\n');
  if (history.length === 0) return `${header}\n\nno checks recorded yet\n`;
  const table = formatTable(
    ['step', 'weight', 'verdict', 'error-rate', 'p99', 'samples', 'at'],
    history.map((h) => {
      const c = h.verdict?.canary;
      const action = `${h.action ?? '?'}${h.count && h.count > 1 ? ` ×${h.count}` : ''}${h.signals?.length ? ` [${h.signals.join(',')}]` : ''}`;
      return [
        action,
        h.weight === undefined ? undefined : `${h.weight}%`,
        h.verdict?.outcome,
        percent(c?.errorRate),
        // The prometheus analysis records its latency query's value instead of a p99.
        ms(c?.p99 ?? c?.latency),
        c?.requests ?? undefined,
        relativeTime(h.last ?? h.time, now),
      ];
    }),
  );
  return `${header}\n\n${table}`;
}
