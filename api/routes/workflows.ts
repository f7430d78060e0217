import { createRoute, z } from '@hono/zod-openapi';
import { NameSchema, WorkflowSpecSchema, isCronTrigger, type Workflow } from '../../engine/domain/workflow.ts';
import { compileScript } from '../../engine/sandbox/compile.ts';
import type { WorkflowStore } from '../../engine/store/workflow-store.ts';
import { parseCron } from '../../engine/triggers/cron-expression.ts';
import { createRouter } from '../validation.ts';

const NameParam = z.object({ name: NameSchema });
const ErrorBody = z.object({ code: z.string(), message: z.string(), details: z.unknown().optional(), requestId: z.string().optional() });
const WorkflowBody = z.object({}).passthrough().describe('A stored workflow: the spec plus name, version, createdAt, updatedAt');
const errors = {
  400: { description: 'Invalid input; `details.issues` names each field (and line/column for scripts)', content: { 'application/json': { schema: ErrorBody } } },
  401: { description: 'Missing or wrong bearer token', content: { 'application/json': { schema: ErrorBody } } },
  404: { description: 'No such workflow', content: { 'application/json': { schema: ErrorBody } } },
};

/** The API view: everything but the compiled script (an internal artefact). */
export function presentWorkflow(wf: Workflow): Omit<Workflow, 'compiled'> {
  const { compiled: _compiled, ...rest } = wf;
  return rest;
}

export function createWorkflowRoutes(deps: { workflows: WorkflowStore }) {
  const r = createRouter();

  r.openapi(createRoute({
    method: 'put', path: '/workflows/{name}', summary: 'Create or replace a workflow (stores a new version)',
    request: { params: NameParam, body: { required: true, content: { 'application/json': { schema: WorkflowSpecSchema } } } },
    responses: { 200: { description: 'The stored workflow', content: { 'application/json': { schema: WorkflowBody } } }, ...errors },
  }), async (c) => {
    const { name } = c.req.valid('param');
    const spec = c.req.valid('json');
    const compiled = compileScript(spec.script);
    if (isCronTrigger(spec.trigger)) parseCron(spec.trigger.cron, spec.trigger.timezone);
    const wf = await deps.workflows.put(name, spec, compiled);
    return c.json(presentWorkflow(wf), 200);
  });

  r.openapi(createRoute({
    method: 'get', path: '/workflows', summary: 'List workflows',
    responses: { 200: { description: 'Workflows', content: { 'application/json': { schema: z.object({ workflows: z.array(WorkflowBody) }) } } } },
  }), async (c) => c.json({ workflows: (await deps.workflows.list()).map(presentWorkflow) }, 200));

  r.openapi(createRoute({
    method: 'get', path: '/workflows/{name}', summary: 'Get a workflow (current version, or ?version=N)',
    request: { params: NameParam, query: z.object({ version: z.coerce.number().int().min(1).optional() }) },
    responses: { 200: { description: 'The workflow', content: { 'application/json': { schema: WorkflowBody } } }, ...errors },
  }), async (c) => {
    const { name } = c.req.valid('param');
    const { version } = c.req.valid('query');
    const wf = version ? await deps.workflows.getVersion(name, version) : await deps.workflows.get(name);
    if (!wf) {
      await deps.workflows.require(name);
      return c.json({ code: 'NOT_FOUND', message: `workflow '${name}' has no version ${version}` }, 404);
    }
    return c.json(presentWorkflow(wf), 200);
  });

  r.openapi(createRoute({
    method: 'get', path: '/workflows/{name}/versions', summary: 'List the stored versions of a workflow',
    request: { params: NameParam },
    responses: { 200: { description: 'Versions, oldest first', content: { 'application/json': { schema: z.object({ versions: z.array(z.object({ version: z.number(), createdAt: z.string() })) }) } } }, ...errors },
  }), async (c) => {
    const { name } = c.req.valid('param');
    await deps.workflows.require(name);
    return c.json({ versions: await deps.workflows.versions(name) }, 200);
  });

  r.openapi(createRoute({
    method: 'delete', path: '/workflows/{name}', summary: 'Delete a workflow, its versions, state and schedule',
    request: { params: NameParam },
    responses: { 204: { description: 'Deleted' }, ...errors },
  }), async (c) => {
    const { name } = c.req.valid('param');
    if (!(await deps.workflows.delete(name))) await deps.workflows.require(name);
    return c.body(null, 204);
  });

  return r;
}
