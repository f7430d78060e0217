import type { Context, MiddlewareHandler } from 'hono';
import { beforeAfter, collectEffects } from '../engine/audit/effects.ts';
import { globsAllow, scopeCovers, type Principal, type ResourceKind } from '../engine/domain/access.ts';
import { globMatches } from '../engine/domain/glob.ts';
import type { AuditEntryInput, AuditLog } from '../engine/ports/audit-log.ts';
import { UnauthorizedError, VeerError } from '../engine/shared/errors.ts';
import type { Logger } from '../engine/shared/logger.ts';
import { READS, requiredAccess, type Access } from './access-policy.ts';
import { principalOf } from './auth.ts';

export interface AccessDeps {
  audit: AuditLog;
  /** The workflow a run belongs to (undefined: no such run), for glob-limited tokens acting on `/runs/{id}`. */
  runWorkflow(id: string): Promise<string | undefined>;
  logger: Logger;
}

const API = '/api/v1';

function forbidden(principal: Principal, message: string, details: Record<string, unknown>): VeerError {
  return new VeerError('FORBIDDEN', `token '${principal.name}' ${message}`, { details: { token: principal.name, ...details } });
}

/**
 * Whether every gateway and deployment a workflow definition grants its script lies within
 * the token's globs: otherwise a token limited to `shop-*` could define a workflow allowed to
 * change any gateway and run it. A grant glob P is within a token glob G when G matches P's
 * text (P's wildcards read as characters) and G's `?` cannot stand for a P `*`: conservative,
 * never too generous.
 */
function grantsOutside(principal: Principal, body: unknown): string[] {
  const perms = (body as { permissions?: { gateways?: unknown; deployments?: unknown } } | null)?.permissions;
  if (!principal.globs || typeof perms !== 'object' || perms === null) return [];
  const within = (kind: ResourceKind, p: string) =>
    principal.globs!.some((g) => {
      const slash = g.indexOf('/');
      if (slash >= 0 && g.slice(0, slash) !== kind) return false;
      const pattern = slash >= 0 ? g.slice(slash + 1) : g;
      return globMatches(pattern, p) && !(pattern.includes('?') && p.includes('*'));
    });
  const outside: string[] = [];
  if (Array.isArray(perms.gateways))
    for (const p of perms.gateways) if (typeof p === 'string' && !within('gateways', p)) outside.push(`permissions.gateways: ${p}`);
  if (typeof perms.deployments === 'object' && perms.deployments !== null)
    for (const p of Object.keys(perms.deployments)) if (!within('deployments', p)) outside.push(`permissions.deployments: ${p}`);
  return outside;
}

async function authorize(c: Context, principal: Principal, access: Access, deps: AccessDeps): Promise<void> {
  const needed = `${c.req.method} ${c.req.path}`;
  if (!scopeCovers(principal.scope, access.scope))
    throw forbidden(principal, `has scope '${principal.scope}'; ${needed} needs '${access.scope}'`, { scope: access.scope, has: principal.scope });
  // Globs limit what a token may change or run; reads are governed by the scope alone, except
  // a read that names its resource (a local deployment's definition: its env may hold credentials).
  if (!principal.globs || (READS.includes(c.req.method.toUpperCase()) && !access.target)) return;
  const limited = `is limited to ${principal.globs.join(', ')}`;
  const target = access.target;
  if (!target) throw forbidden(principal, `${limited}; ${needed} names no resource within them (use a token without globs)`, { globs: principal.globs });
  let kind: ResourceKind = 'workflows';
  let name: string | undefined;
  if (target.kind === 'runs') name = await deps.runWorkflow(target.id);
  else ({ kind, name } = target);
  // An unknown run: nothing to act on; the route answers 404.
  if (name === undefined) return;
  if (!globsAllow(principal.globs, kind, name))
    throw forbidden(principal, `${limited}; ${kind}/${name} is outside them`, { globs: principal.globs, resource: `${kind}/${name}` });
  if (kind === 'workflows' && c.req.method.toUpperCase() === 'PUT') {
    const body = await c.req.json().catch(() => undefined);
    const outside = grantsOutside(principal, body);
    if (outside.length)
      throw forbidden(principal, `${limited}; workflow '${name}' would grant its script ${outside.join(', ')}`, { globs: principal.globs, grants: outside });
  }
}

/** What the answer says about the state after, for calls whose services emit no change event. */
async function summary(res: Response): Promise<{ code?: string; after?: unknown }> {
  if (!(res.headers.get('content-type') ?? '').includes('application/json')) return {};
  const body = (await res
    .clone()
    .json()
    .catch(() => undefined)) as Record<string, unknown> | undefined;
  if (typeof body !== 'object' || body === null) return {};
  if (res.status >= 400) return typeof body.code === 'string' ? { code: body.code } : {};
  const picked = Object.fromEntries(
    ['id', 'version', 'revision', 'status', 'desiredInstances'].flatMap((k) =>
      ['string', 'number'].includes(typeof body[k]) ? [[k === 'id' ? 'runId' : k, body[k]]] : [],
    ),
  );
  return Object.keys(picked).length ? { after: picked } : {};
}

/**
 * Authorization and audit for /api/v1, after `authenticate` (api/auth.ts) found the caller.
 * Each request needs its route's scope (api/access-policy.ts) and, for glob-limited tokens,
 * a resource within the globs; a refusal is 403 FORBIDDEN naming the scope needed and the
 * token's name. Every mutating call, refused or not, is appended to the audit stream with the
 * token's name, the method and path, the answer's status and before → after where the
 * services reported it. Mounted ahead of every resource router (api/routes/audit.ts).
 */
export function accessControl(deps: AccessDeps): MiddlewareHandler {
  const record = async (entry: AuditEntryInput) => {
    try {
      await deps.audit.append(entry);
    } catch (err) {
      // The call has been answered; an audit outage is logged, not turned into a failure after the fact.
      deps.logger.warn({ err, entry }, 'audit entry not recorded');
    }
  };
  return async (c, next) => {
    if (!c.req.path.startsWith(`${API}/`) || c.req.path === `${API}/openapi.json`) return next();
    const principal = principalOf(c);
    if (!principal) throw new UnauthorizedError();
    const access = requiredAccess(c.req.method, c.req.path.slice(API.length));
    const base = {
      actor: principal.name,
      action: `${c.req.method.toUpperCase()} ${c.req.path}`.slice(0, 300),
      resource: access.resource.slice(0, 200),
      requestId: c.get('requestId' as never) as string | undefined,
    };
    // A dry-run PUT (`?dryRun=true`: what `veer apply` and `veer diff` plan with) changes nothing,
    // so it is authorized like the write it previews but leaves no audit entry that reads as one.
    const dryRun = c.req.method.toUpperCase() === 'PUT' && c.req.query('dryRun') === 'true';
    if (READS.includes(c.req.method.toUpperCase()) || dryRun) {
      await authorize(c, principal, access, deps);
      return next();
    }
    try {
      await authorize(c, principal, access, deps);
    } catch (err) {
      const code = err instanceof VeerError ? err.code : 'INTERNAL';
      await record({ ...base, outcome: code === 'FORBIDDEN' ? 'refused' : 'failed', status: code === 'FORBIDDEN' ? 403 : 500, code });
      throw err;
    }
    const { effects, result } = await collectEffects(() => next());
    if (result.status === 'rejected') {
      await record({ ...base, outcome: 'failed', code: result.reason instanceof VeerError ? result.reason.code : 'INTERNAL' });
      throw result.reason;
    }
    const status = c.res.status;
    const told = await summary(c.res);
    const changes = beforeAfter(effects);
    await record({
      ...base,
      outcome: status < 400 ? 'ok' : status === 401 || status === 403 ? 'refused' : 'failed',
      status,
      ...(told.code ? { code: told.code } : {}),
      ...('after' in changes || 'before' in changes ? changes : told.after !== undefined ? { after: told.after } : {}),
    });
  };
}
