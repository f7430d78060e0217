import type { CommandContext } from '../context.ts';
import { apiError, unreachable } from '../client.ts';
import { KIND_INFO, type Kind } from './kinds.ts';

/** An API error answer kept whole: plan.ts maps its `details.issues` back to manifest lines. */
export interface ApiFailure {
  status: number;
  body: { code?: string; message?: string; details?: { issues?: Array<{ path?: string; message?: string; line?: number; column?: number }> } };
}

export type Obj = Record<string, unknown>;

interface Answer {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/**
 * The five kinds share one shape of routes (GET/PUT/DELETE /api/v1/<plural>/{name}), so the
 * manifest commands go through the client by path string rather than one typed call per kind.
 */
type LooseClient = Record<'GET' | 'PUT' | 'DELETE', (path: string, init: { params?: object; body?: unknown; signal?: AbortSignal }) => Promise<Answer>>;

async function call(ctx: CommandContext, method: 'GET' | 'PUT' | 'DELETE', path: string, init: { params?: object; body?: unknown }): Promise<Answer> {
  const client = (await ctx.client()) as unknown as LooseClient;
  try {
    return await client[method](path, { ...init, signal: ctx.signal });
  } catch (err) {
    throw unreachable((await ctx.connection()).url, err);
  }
}

const one = (kind: Kind) => `/api/v1/${KIND_INFO[kind].plural}/{name}`;

/** The object, or undefined when there is none (404). */
export async function getObject(ctx: CommandContext, kind: Kind, name: string): Promise<Obj | undefined> {
  const res = await call(ctx, 'GET', one(kind), { params: { path: { name } } });
  if (res.response.status === 404) return undefined;
  if (!res.response.ok) throw apiError(res.response.status, res.error);
  return res.data as Obj;
}

export async function listObjects(ctx: CommandContext, kind: Kind): Promise<Obj[]> {
  const plural = KIND_INFO[kind].plural;
  const res = await call(ctx, 'GET', `/api/v1/${plural}`, {});
  if (!res.response.ok) throw apiError(res.response.status, res.error);
  const data = res.data as Record<string, unknown>;
  return (data[plural] ?? []) as Obj[];
}

/** Whether the scheduler can define deployments (only local ones can be applied or exported). */
export async function schedulerKind(ctx: CommandContext): Promise<string | undefined> {
  const res = await call(ctx, 'GET', '/api/v1/deployments', {});
  if (!res.response.ok) return undefined;
  return (res.data as { scheduler?: string }).scheduler;
}

/** PUT (or a dry-run PUT): the answer, or the API's error answer as it is. */
export async function putObject(
  ctx: CommandContext,
  kind: Kind,
  name: string,
  body: Obj,
  dryRun: boolean,
): Promise<{ ok: true; data: Obj } | { ok: false; failure: ApiFailure }> {
  const res = await call(ctx, 'PUT', one(kind), { params: { path: { name }, query: dryRun ? { dryRun: 'true' } : {} }, body });
  if (res.response.ok) return { ok: true, data: (res.data ?? {}) as Obj };
  return {
    ok: false,
    failure: {
      status: res.response.status,
      body: (typeof res.error === 'object' && res.error ? res.error : { message: String(res.error ?? '') }) as ApiFailure['body'],
    },
  };
}

/** true when deleted, false when there was nothing to delete. */
export async function deleteObject(ctx: CommandContext, kind: Kind, name: string): Promise<boolean> {
  const res = await call(ctx, 'DELETE', one(kind), { params: { path: { name } } });
  if (res.response.status === 404) return false;
  if (!res.response.ok) throw apiError(res.response.status, res.error);
  return true;
}
