import { createRoute, z } from '@hono/zod-openapi';
import { ValidationError } from '../../engine/shared/errors.ts';
import { accessControl, type AccessDeps } from '../access.ts';
import { errorResponse } from '../error-body.ts';
import { createRouter } from '../validation.ts';

const AuditEntryBody = z
  .object({
    id: z.string(),
    time: z.string().describe('ISO-8601'),
    actor: z.string().describe('token name, `anonymous` (no tokens configured), or `workflow/<name>/<runId>` for script effects'),
    action: z.string().describe('`PUT /api/v1/gateways/shop/weights`, or a capability method: `ctx.gateways.setWeights`'),
    resource: z.string().describe('`gateways/shop`, `workflows/canary`, `deployments/web`, `runs/<id>`, `events`'),
    outcome: z.enum(['ok', 'refused', 'failed']),
    status: z.number().int().optional().describe('HTTP status answered (API calls)'),
    code: z.string().optional().describe('error code when it did not succeed'),
    before: z.unknown().optional(),
    after: z.unknown().optional(),
    requestId: z.string().optional(),
  })
  .openapi('AuditEntry');

function parseSince(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms))
    throw new ValidationError('since: must be ISO-8601 or epoch milliseconds', [{ path: 'since', message: 'must be ISO-8601 or epoch milliseconds' }]);
  return ms;
}

/**
 * The audit stream (`GET /audit`) and the access middleware that feeds it. The middleware is
 * registered on this router, which `createRouters` mounts first, so it runs before every
 * other /api/v1 route (Hono runs the handlers matching a path in registration order).
 *
 * Reading the audit stream needs `admin`: it shows every token's name and activity, which is
 * what a holder of a leaked read token should not learn (api/access-policy.ts).
 */
export function createAuditRoutes(deps: AccessDeps) {
  const r = createRouter();
  r.use('*', accessControl(deps));
  r.openapi(
    createRoute({
      method: 'get',
      path: '/audit',
      summary: 'Who did what: every mutating API call and every script effect, newest first (admin scope)',
      request: {
        query: z.object({
          actor: z.string().max(300).optional().describe('a token name, or `workflow/<name>` (its runs), or `workflow/<name>/<runId>`'),
          resource: z.string().max(300).optional().describe('`gateways/shop`, or a kind (`gateways`) for all of it'),
          since: z.string().optional().describe('ISO-8601 or epoch milliseconds'),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          cursor: z.string().max(100).optional().describe('`next` of the previous page: continue with older entries'),
        }),
      },
      responses: {
        200: {
          description: 'A page of entries; `next` means older ones may follow (a page can be short when the scan budget is spent)',
          content: { 'application/json': { schema: z.object({ entries: z.array(AuditEntryBody), next: z.string().optional() }) } },
        },
        400: errorResponse('A bad filter or cursor'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await deps.audit.query({
        ...(q.actor ? { actor: q.actor } : {}),
        ...(q.resource ? { resource: q.resource } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
        since: parseSince(q.since),
        limit: q.limit,
      });
      return c.json(page, 200);
    },
  );
  return r;
}
