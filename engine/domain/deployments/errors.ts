import { UnavailableError, VeerError } from '../../shared/errors.ts';

/**
 * The scheduler error family. Every message names the driver, the deployment and what to
 * check, because the reader is an operator looking at a failed run or API call.
 */
export interface SchedulerErrorContext {
  driver: string;
  deployment?: string;
  /** e.g. "in namespace 'prod'" or "(app '/prod/shop')". */
  where?: string;
  cause?: unknown;
}

function subject(ctx: SchedulerErrorContext): string {
  const d = ctx.deployment ? `deployment '${ctx.deployment}'` : 'the scheduler';
  return `${ctx.driver}: ${d}${ctx.where ? ' ' + ctx.where : ''}`;
}

function details(ctx: SchedulerErrorContext, extra: Record<string, unknown> = {}) {
  return { driver: ctx.driver, deployment: ctx.deployment, ...extra };
}

export function notFound(ctx: SchedulerErrorContext, hint = 'check the name and the namespace/group the driver is configured with'): VeerError {
  return new VeerError('SCHEDULER.NOT_FOUND', `${subject(ctx)} does not exist: ${hint}`, { details: details(ctx), cause: ctx.cause });
}

export function forbidden(ctx: SchedulerErrorContext, status: number, hint: string): VeerError {
  const what = status === 401 ? 'was rejected as unauthenticated (401)' : 'is forbidden (403)';
  return new VeerError('SCHEDULER.FORBIDDEN', `${subject(ctx)} ${what}: ${hint}`, { details: details(ctx, { status }), cause: ctx.cause });
}

export function conflict(ctx: SchedulerErrorContext, hint: string): VeerError {
  return new VeerError('SCHEDULER.CONFLICT', `${subject(ctx)} changed concurrently or is locked (409): ${hint}`, {
    details: details(ctx),
    cause: ctx.cause,
    retryable: true,
  });
}

export function unavailable(ctx: SchedulerErrorContext, hint: string): VeerError {
  const why = ctx.cause instanceof Error ? ` (${ctx.cause.message})` : '';
  return new UnavailableError('SCHEDULER.UNAVAILABLE', `${subject(ctx)} could not be reached${why}: ${hint}`, { details: details(ctx), cause: ctx.cause });
}

export function timeout(ctx: SchedulerErrorContext, timeoutMs: number, last: string): VeerError {
  return new VeerError(
    'SCHEDULER.TIMEOUT',
    `${subject(ctx)} was not ready within ${timeoutMs} ms (last seen: ${last}); check its instances' logs and health checks`,
    {
      details: details(ctx, { timeoutMs, last }),
      retryable: true,
    },
  );
}

/** A request the driver cannot honour (bad value, unsupported ability): HTTP 400. `extra` joins the details (e.g. `issues`). */
export function invalid(driver: string, message: string, extra: Record<string, unknown> = {}): VeerError {
  return new VeerError('SCHEDULER.INVALID', `${driver}: ${message}`, { details: { driver, ...extra } });
}
