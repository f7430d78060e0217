import { createRoute, z } from '@hono/zod-openapi';
import { DRY_RUN_OUTCOMES, DryRunQuerySchema } from '../../engine/domain/dry-run-put.ts';
import { DeploymentDefinitionSchema } from '../../engine/domain/deployments/definition.ts';
import { invalid, notFound } from '../../engine/domain/deployments/errors.ts';
import type { SchedulerDriver } from '../../engine/ports/scheduler.ts';
import { ScaleRequestSchema } from '../../engine/domain/deployments/scale-request.ts';
import { NameSchema } from '../../engine/domain/workflow.ts';
import { errorResponse } from '../error-body.ts';
import { createRouter } from '../validation.ts';

const NameParam = z.object({ name: NameSchema });
const EndpointBody = z.object({ host: z.string(), port: z.number(), ready: z.boolean(), name: z.string().optional() });
const DeploymentBody = z
  .object({
    name: z.string(),
    desiredInstances: z.number(),
    readyInstances: z.number(),
    cpu: z.number().optional().describe('cores per instance'),
    memory: z.number().optional().describe('bytes per instance'),
    image: z.string().optional(),
    command: z.string().optional(),
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()).optional().describe('local deployments: as defined'),
    status: z.enum(['ready', 'progressing', 'degraded', 'unknown']),
    endpoints: z.array(EndpointBody),
  })
  .openapi('Deployment');
const DeploymentDryRun = z
  .object({
    outcome: z.enum(DRY_RUN_OUTCOMES).describe('what the PUT would do: `unchanged` when the stored definition (instances included) is the same'),
    object: DeploymentBody.describe('the deployment as GET would answer right after the PUT'),
  })
  .openapi('DeploymentDryRun', { description: 'The answer of PUT ?dryRun=true: nothing was defined' });
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const errors = {
  400: errorResponse('Invalid request, or an ability this scheduler lacks (code SCHEDULER.INVALID)'),
  401: errorResponse('Missing or wrong bearer token'),
  403: errorResponse('The scheduler refused Veer (SCHEDULER.FORBIDDEN): check its credentials'),
  404: errorResponse('No such deployment'),
  409: errorResponse('The scheduler reported a concurrent change or a running rollout'),
  503: errorResponse('The scheduler is unreachable, or ?wait=true timed out (SCHEDULER.TIMEOUT)'),
};

export interface DeploymentRouteDeps {
  scheduler: SchedulerDriver;
  /** Upper bound of `?wait=true` (ms); default 120 000. */
  maxWaitMs?: number;
}

export function createDeploymentRoutes(deps: DeploymentRouteDeps) {
  const r = createRouter();
  const { scheduler } = deps;
  const maxWaitMs = deps.maxWaitMs ?? 120_000;
  const WaitQuery = z.object({
    wait: z.enum(['true', 'false']).optional().describe('wait until the rollout is ready before answering'),
    timeoutMs: z.coerce.number().int().min(1).max(maxWaitMs).optional().describe(`bound of the wait; default and maximum ${maxWaitMs}`),
  });
  const needDefine = (what: string) => {
    if (!scheduler.capabilities.define || !scheduler.define || !scheduler.remove) {
      throw invalid(
        scheduler.kind,
        `${what} is only possible with the local scheduler (VEER_SCHEDULER=local); deployments on ${scheduler.kind} are managed there, Veer only reads and scales them`,
      );
    }
    return {
      define: scheduler.define.bind(scheduler),
      remove: scheduler.remove.bind(scheduler),
      planDefine: scheduler.planDefine?.bind(scheduler),
    };
  };
  const settle = async (name: string, q: z.infer<typeof WaitQuery>) =>
    q.wait === 'true' ? scheduler.waitReady(name, { timeoutMs: q.timeoutMs ?? maxWaitMs, signal: AbortSignal.timeout(maxWaitMs + 1000) }) : scheduler.get(name);

  r.openapi(
    createRoute({
      method: 'get',
      path: '/deployments',
      summary: 'List deployments on the configured scheduler',
      responses: { 200: json(z.object({ scheduler: z.string(), deployments: z.array(DeploymentBody) }), 'Deployments by name'), 503: errors[503] },
    }),
    async (c) => c.json({ scheduler: scheduler.kind, deployments: await scheduler.list() }, 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/deployments/{name}',
      summary: 'Get a deployment: instances, resources, status, endpoints',
      request: { params: NameParam },
      responses: { 200: json(DeploymentBody, 'The deployment'), ...errors },
    }),
    async (c) => c.json(await scheduler.get(c.req.valid('param').name), 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/deployments/{name}/definition',
      summary: "A local deployment's whole definition, env included, as PUT /deployments/{name} takes it (local scheduler only; scope admin)",
      description:
        'The stored definition (command, args, env, instances, healthCheck, cwd, labels, annotations) in exactly the PUT body shape, ' +
        '`instances` being the desired count now: PUT it back and a dry run says `unchanged` (what `veer export` relies on). ' +
        'It needs the `admin` scope, unlike the other reads: `env` may hold credentials, and defining a local deployment needs admin too.',
      request: { params: NameParam },
      responses: { 200: json(DeploymentDefinitionSchema, 'The definition'), ...errors },
    }),
    async (c) => {
      needDefine("reading a deployment's definition");
      const { name } = c.req.valid('param');
      if (!scheduler.definition) throw invalid(scheduler.kind, `the ${scheduler.kind} scheduler does not keep deployment definitions`);
      const definition = await scheduler.definition(name);
      if (!definition) throw notFound({ driver: scheduler.kind, deployment: name }, 'define it first with PUT /api/v1/deployments/{name}');
      return c.json(definition, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'put',
      path: '/deployments/{name}/scale',
      summary: 'Scale a deployment (instances, cpu cores, memory per instance)',
      request: { params: NameParam, query: WaitQuery, body: { required: true, content: { 'application/json': { schema: ScaleRequestSchema } } } },
      responses: { 200: json(DeploymentBody, 'Ready (with ?wait=true)'), 202: json(DeploymentBody, 'Accepted; the rollout continues'), ...errors },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const q = c.req.valid('query');
      const accepted = await scheduler.scale(name, c.req.valid('json'));
      if (q.wait !== 'true') return c.json(accepted, 202);
      return c.json(await settle(name, q), 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'put',
      path: '/deployments/{name}',
      summary: 'Define or replace a local deployment (local scheduler only); ?dryRun=true checks it and defines nothing',
      request: {
        params: NameParam,
        query: WaitQuery.extend(DryRunQuerySchema.shape),
        body: { required: true, content: { 'application/json': { schema: DeploymentDefinitionSchema } } },
      },
      responses: {
        200: json(z.union([DeploymentBody, DeploymentDryRun]), 'Ready (with ?wait=true), or with ?dryRun=true a DeploymentDryRun'),
        202: json(DeploymentBody, 'Accepted; instances are starting'),
        ...errors,
      },
    }),
    async (c) => {
      const { define, planDefine } = needDefine('defining deployments');
      const { name } = c.req.valid('param');
      const q = c.req.valid('query');
      if (q.dryRun === 'true') {
        if (!planDefine) throw invalid(scheduler.kind, `dry runs of deployments are not possible with the ${scheduler.kind} scheduler`);
        const { outcome, deployment } = await planDefine(name, c.req.valid('json'));
        return c.json({ outcome, object: deployment }, 200);
      }
      const accepted = await define(name, c.req.valid('json'));
      if (q.wait !== 'true') return c.json(accepted, 202);
      return c.json(await settle(name, q), 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'delete',
      path: '/deployments/{name}',
      summary: 'Remove a local deployment, draining its instances (local scheduler only)',
      request: { params: NameParam },
      responses: { 204: { description: 'Removed' }, ...errors },
    }),
    async (c) => {
      const { remove } = needDefine('removing deployments');
      const { name } = c.req.valid('param');
      if (!(await remove(name))) throw notFound({ driver: scheduler.kind, deployment: name }, 'nothing to remove');
      return c.body(null, 204);
    },
  );

  return r;
}
