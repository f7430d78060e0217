import { createRoute, z } from '@hono/zod-openapi';
import { GatewayNameSchema, GatewaySpecSchema, RouteSpecSchema } from '../../engine/domain/gateways/model.ts';
import { DRY_RUN_OUTCOMES, DryRunQuerySchema } from '../../engine/domain/dry-run-put.ts';
import type { AgentSummary, GatewayStatus } from '../../engine/gateways/gateway-status.ts';
import type { GatewayService } from '../../engine/gateways/service.ts';
import { ValidationError } from '../../engine/shared/errors.ts';
import { errorResponse } from '../error-body.ts';
import { asStored } from '../stored-schema.ts';
import { createRouter } from '../validation.ts';

const NameParam = z.object({ name: GatewayNameSchema });
const IfMatch = z.object({ 'if-match': z.string().optional().describe('CAS: the revision you read (plain or as an ETag, "12")') });
/** A route as stored: `weight` filled in when the PUT left it out, `conditionStrength` always set. */
const StoredRoute = asStored(RouteSpecSchema).extend({
  weight: RouteSpecSchema.shape.weight.unwrap().describe('whole percent of the traffic not taken by conditions'),
  conditionStrength: RouteSpecSchema.shape.conditionStrength.unwrap().describe('percent of matching requests sent to this route (100 unless set)'),
});
const GatewayBody = asStored(GatewaySpecSchema)
  .extend({
    name: z.string(),
    revision: z.string().describe('the KV revision: send it back as If-Match (or `revision`) to change what you read'),
    updatedAt: z.string(),
    routes: z.record(z.string(), StoredRoute).describe('route name → route, in their (significant) order'),
  })
  .openapi('Gateway', { description: 'The stored gateway: its normalised spec (weights filled in) plus name, revision, updatedAt' });
const GatewayDryRun = z
  .object({
    outcome: z.enum(DRY_RUN_OUTCOMES).describe('what the PUT would do'),
    object: GatewayBody.partial({ revision: true, updatedAt: true }).describe(
      'a Gateway: the gateway as GET would answer after the PUT (normalised, weights filled in); `revision` and `updatedAt` only when unchanged',
    ),
  })
  .openapi('GatewayDryRun', { description: 'The answer of PUT ?dryRun=true: nothing was stored' });
const GatewayStatusBody = z
  .object({
    name: z.string(),
    revision: z.string().describe('the stored revision'),
    live: z.boolean().describe('at least one live agent serves the current revision and none serves an older one'),
    agents: z.array(
      z.object({
        agentId: z.string(),
        heartbeatAt: z.string(),
        alive: z.boolean().describe('heard from within a few of its own heartbeat intervals'),
        appliedRevision: z.string().optional().describe('the revision of this gateway it serves; absent: none yet'),
        appliedAt: z.string().optional(),
        current: z.boolean().describe('appliedRevision is the stored revision'),
        error: z.string().optional().describe('why it could not apply the gateway'),
        routesWithoutTargets: z.array(z.string()).optional().describe('routes whose targets resolved to no server'),
        routesHeld: z
          .array(z.string())
          .optional()
          .describe('of those, the routes served at weight 0 until their first server, their share going to the routes with servers'),
      }),
    ),
  })
  .openapi('GatewayStatus', { description: 'Which agents serve which revision of a gateway' }) satisfies z.ZodType<GatewayStatus>;
const AgentSummaryBody = z
  .object({
    agentId: z.string(),
    heartbeatAt: z.string(),
    alive: z.boolean().describe('heard from within a few of its own heartbeat intervals'),
    haproxyRunning: z.boolean(),
    gateways: z
      .record(z.string(), z.object({ appliedRevision: z.string().optional(), error: z.string().optional() }))
      .describe('gateway name → the revision this agent serves'),
  })
  .openapi('AgentSummary') satisfies z.ZodType<AgentSummary>;
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const errors = {
  400: errorResponse('Invalid input; `details.issues` names each field (and the column for conditions)'),
  401: errorResponse('Missing or wrong bearer token'),
  404: errorResponse('No such gateway'),
  409: errorResponse('Stale revision (someone changed the gateway since you read it) or port already in use'),
};

/** What a client PUTs; `name`, `updatedAt` are accepted (so a GET body can be PUT back) and ignored. */
const PutBody = GatewaySpecSchema.extend({
  revision: z.string().optional().describe('CAS: the revision you read; "0" means create only'),
  name: z.string().optional(),
  updatedAt: z.string().optional(),
});
const WeightsBody = z
  .record(z.string(), z.union([z.number(), z.string()]))
  .describe('route → absolute whole percentage, e.g. {"v1": 80, "v2": 20}; an optional "revision" string for CAS');

const unquote = (v: string | undefined) => (v === undefined ? undefined : v.replace(/^W\//, '').replace(/^"(.*)"$/, '$1'));

function revisionFrom(header: string | undefined, body: string | undefined): string | undefined {
  const h = unquote(header);
  if (h !== undefined && body !== undefined && h !== body) {
    throw new ValidationError(`If-Match (${h}) and the body's revision (${body}) disagree; send one of them`, [
      { path: 'revision', message: 'disagrees with If-Match' },
    ]);
  }
  return h ?? body;
}

export function createGatewayRoutes(deps: { gateways: GatewayService }) {
  const r = createRouter();
  const { gateways } = deps;

  r.openapi(
    createRoute({
      method: 'get',
      path: '/gateways',
      summary: 'List gateways',
      responses: { 200: json(z.object({ gateways: z.array(GatewayBody) }), 'Gateways by name') },
    }),
    async (c) => c.json({ gateways: await gateways.list() }, 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/gateways/{name}',
      summary: 'Get a gateway',
      request: { params: NameParam },
      responses: { 200: json(GatewayBody, 'The gateway'), ...errors },
    }),
    async (c) => {
      const g = await gateways.get(c.req.valid('param').name);
      c.header('etag', `"${g.revision}"`);
      return c.json(g, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'put',
      path: '/gateways/{name}',
      summary: 'Create or replace a gateway (missing weights are filled in evenly); ?dryRun=true checks it and stores nothing',
      request: {
        params: NameParam,
        query: DryRunQuerySchema,
        headers: IfMatch,
        body: { required: true, content: { 'application/json': { schema: PutBody } } },
      },
      responses: {
        200: json(z.union([GatewayBody, GatewayDryRun]), 'Replaced (or unchanged), or with ?dryRun=true a GatewayDryRun'),
        201: json(GatewayBody, 'Created'),
        ...errors,
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const { revision, name: bodyName, updatedAt: _updatedAt, ...spec } = c.req.valid('json');
      if (bodyName !== undefined && bodyName !== name) {
        throw new ValidationError(`name: the body names gateway '${bodyName}' but the path says '${name}'`, [
          { path: 'name', message: 'differs from the path' },
        ]);
      }
      const ifRevision = revisionFrom(c.req.valid('header')['if-match'], revision);
      if (c.req.valid('query').dryRun === 'true') {
        const { outcome, gateway } = await gateways.planPut(name, spec, { ifRevision });
        return c.json({ outcome, object: gateway }, 200);
      }
      const { created, ...g } = await gateways.put(name, spec, { ifRevision });
      c.header('etag', `"${g.revision}"`);
      return c.json(g, created ? 201 : 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'delete',
      path: '/gateways/{name}',
      summary: 'Delete a gateway',
      request: { params: NameParam, headers: IfMatch },
      responses: { 204: { description: 'Deleted' }, ...errors },
    }),
    async (c) => {
      await gateways.delete(c.req.valid('param').name, { ifRevision: unquote(c.req.valid('header')['if-match']) });
      return c.body(null, 204);
    },
  );

  r.openapi(
    createRoute({
      method: 'put',
      path: '/gateways/{name}/weights',
      summary: 'Set route weights (absolute, idempotent; unlisted routes keep theirs)',
      request: { params: NameParam, headers: IfMatch, body: { required: true, content: { 'application/json': { schema: WeightsBody } } } },
      responses: { 200: json(GatewayBody, 'The gateway with its new weights'), ...errors },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const body = { ...c.req.valid('json') };
      let bodyRevision: string | undefined;
      if (typeof body.revision === 'string') {
        bodyRevision = body.revision;
        delete body.revision;
      }
      const weights: Record<string, number> = {};
      for (const [route, w] of Object.entries(body)) {
        if (typeof w !== 'number')
          throw new ValidationError(`weights.${route}: expected a whole percentage, got ${JSON.stringify(w)}`, [
            { path: `weights.${route}`, message: 'expected a number' },
          ]);
        weights[route] = w;
      }
      const ifRevision = revisionFrom(c.req.valid('header')['if-match'], bodyRevision);
      const { before: _before, ...g } = await gateways.setWeights(name, weights, { ifRevision });
      c.header('etag', `"${g.revision}"`);
      return c.json(g, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/gateways/{name}/status',
      summary: 'Which agents serve which revision, and whether the current one is live everywhere',
      request: { params: NameParam },
      responses: {
        200: json(GatewayStatusBody, 'Per-agent status'),
        ...errors,
      },
    }),
    async (c) => c.json(await gateways.status(c.req.valid('param').name), 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/agents',
      summary: 'Every gateway agent that has reported: alive or not, its HAProxy, and the revision it serves of each gateway',
      responses: { 200: json(z.object({ agents: z.array(AgentSummaryBody) }), 'Agents, newest heartbeat first') },
    }),
    async (c) => c.json({ agents: await gateways.agents() }, 200),
  );

  return r;
}
