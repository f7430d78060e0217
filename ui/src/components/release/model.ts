import type { components } from '../../../../cli/api/schema.ts';

/** GET /api/v1/releases: a canary-release workflow and its state. */
export type ReleaseView = components['schemas']['Release'];

/**
 * What workflows/canary-release.ts keeps in its state, every field optional so a state from an
 * older or newer canary still renders (as `veer release status` reads it).
 */
export interface CanaryState {
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
export interface RouteNumbers {
  requests?: number | null;
  errorRate?: number | null;
  p99?: number | null;
  latency?: number | null;
  noData?: boolean;
}
export interface CheckEntry {
  check?: string;
  value?: number | null;
  limit?: number;
  ok?: boolean;
}
export interface HistoryEntry {
  time?: string;
  weight?: number;
  action?: string;
  phase?: string;
  verdict?: { outcome?: string; canary?: RouteNumbers; stable?: RouteNumbers; checks?: CheckEntry[]; note?: string };
  reason?: string;
  signals?: string[];
  count?: number;
  last?: string;
}

export type Step = { weight: number } | { pause: string };

/** STEPS as the canary expands it ({weight, pause} is two steps); empty when it cannot be read. */
export function parseSteps(raw: string): Step[] {
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (!Array.isArray(parsed)) return [];
    const steps: Step[] = [];
    for (const item of parsed) {
      if (typeof item === 'number') steps.push({ weight: item });
      else if (item && typeof item === 'object') {
        const o = item as { weight?: unknown; pause?: unknown };
        if (typeof o.weight === 'number') steps.push({ weight: o.weight });
        if (o.pause !== undefined) steps.push({ pause: String(o.pause) });
      }
    }
    return steps;
  } catch {
    return [];
  }
}

export const percent = (v: number | null | undefined) => (typeof v === 'number' ? `${Number((v * 100).toFixed(2))}%` : '—');
export const millis = (v: number | null | undefined) => (typeof v === 'number' ? `${v} ms` : '—');
