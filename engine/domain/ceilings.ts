import type { Issue } from '../shared/errors.ts';
import type { WorkflowSpec } from './workflow.ts';

/**
 * The operator's ceilings over what an uploader may ask for in `limits`. Uploads above a
 * ceiling are refused (a 400 naming the field and the ceiling); a stored workflow above a
 * ceiling that was lowered later is held to the ceiling when it runs (`clampLimits`), so
 * lowering one takes effect at once for every stored version without refusing their runs.
 */
export interface LimitCeilings {
  /** VEER_MAX_TIMEOUT_MS: the longest wall-clock deadline of one attempt. */
  timeoutMs: number;
  /** VEER_MAX_MEMORY_MB: the largest isolate heap. */
  memoryMb: number;
  /** VEER_MAX_CPU_MS: the most CPU time of one attempt. */
  cpuMs: number;
  /** VEER_MAX_WORKFLOW_CONCURRENCY: the most runs of one workflow executing at once, across every engine. */
  concurrency: number;
}

/** A workflow without `limits.concurrency` runs one run at a time (others wait, and other workflows' runs go first). */
export const DEFAULT_WORKFLOW_CONCURRENCY = 1;

/** The defaults of the VEER_MAX_* variables (engine/config.ts), also used by code built without config (tests). */
export const DEFAULT_CEILINGS: LimitCeilings = { timeoutMs: 15 * 60_000, memoryMb: 256, cpuMs: 15 * 60_000, concurrency: 8 };

/** The variable that sets each ceiling, for messages that tell the uploader whom to ask. */
const VARIABLES: Record<keyof LimitCeilings, string> = {
  timeoutMs: 'VEER_MAX_TIMEOUT_MS',
  memoryMb: 'VEER_MAX_MEMORY_MB',
  cpuMs: 'VEER_MAX_CPU_MS',
  concurrency: 'VEER_MAX_WORKFLOW_CONCURRENCY',
};

/**
 * One issue per `limits` field over its ceiling (`limits.timeoutMs: 86400000 is over the
 * operator ceiling VEER_MAX_TIMEOUT_MS=900000`). Takes the raw body's `limits` so the check
 * also runs when other fields fail their schema; non-numbers are the schema's business,
 * and fields `skip` names (already reported) are left out. An absent `cpuMs` defaults to
 * `timeoutMs` and is held to its ceiling at run time, not refused.
 */
export function ceilingIssues(limits: unknown, ceilings: LimitCeilings, skip: (path: string) => boolean = () => false): Issue[] {
  if (typeof limits !== 'object' || limits === null) return [];
  const issues: Issue[] = [];
  for (const field of Object.keys(VARIABLES) as Array<keyof LimitCeilings>) {
    const path = `limits.${field}`;
    const value = Object.hasOwn(limits, field) ? (limits as Record<string, unknown>)[field] : undefined;
    if (typeof value !== 'number' || value <= ceilings[field] || skip(path)) continue;
    issues.push({ path, message: `${value} is over the operator ceiling ${VARIABLES[field]}=${ceilings[field]}` });
  }
  return issues;
}

type Limits = WorkflowSpec['limits'];

/** The limits a run gets: the workflow's, each held to its ceiling (cpuMs defaults to the held timeout). */
export function clampLimits(limits: Limits, ceilings: LimitCeilings): Limits {
  const timeoutMs = Math.min(limits.timeoutMs, ceilings.timeoutMs);
  return {
    ...limits,
    timeoutMs,
    memoryMb: Math.min(limits.memoryMb, ceilings.memoryMb),
    cpuMs: Math.min(limits.cpuMs ?? timeoutMs, ceilings.cpuMs),
    concurrency: Math.min(limits.concurrency ?? DEFAULT_WORKFLOW_CONCURRENCY, ceilings.concurrency),
  };
}

/** Whether `clampLimits` changed anything (worth one warning per workflow version). */
export function isClamped(limits: Limits, ceilings: LimitCeilings): boolean {
  return (
    limits.timeoutMs > ceilings.timeoutMs ||
    limits.memoryMb > ceilings.memoryMb ||
    (limits.cpuMs ?? limits.timeoutMs) > ceilings.cpuMs ||
    (limits.concurrency ?? DEFAULT_WORKFLOW_CONCURRENCY) > ceilings.concurrency
  );
}
