import { createRoute, z } from '@hono/zod-openapi';
import type { EmitEvent } from '../../engine/domain/emit.ts';
import { NameSchema } from '../../engine/domain/workflow.ts';
import type { WorkflowStore } from '../../engine/ports/workflow-store.ts';
import { principalOf } from '../auth.ts';
import { errorResponse } from '../error-body.ts';
import { createRouter } from '../validation.ts';
import { presentWorkflow, WorkflowBody } from './workflows.ts';

const params = z.object({ name: NameSchema });
const notFound = { 404: errorResponse('No such workflow') };
export interface WorkflowControlDeps {
  workflows: WorkflowStore;
  emit: EmitEvent;
}

/** Pause and resume a workflow's triggers without a new version. */
export function createWorkflowControlRoutes(deps: WorkflowControlDeps) {
  const r = createRouter();
  r.openapi(
    createRoute({
      method: 'post',
      path: '/workflows/{name}/pause',
      summary: "Pause the workflow's triggers (manual runs still start); each refused trigger is recorded as skipped (paused)",
      request: {
        params,
        body: { required: false, content: { 'application/json': { schema: z.object({ reason: z.string().max(500).optional() }).strict() } } },
      },
      responses: {
        200: { description: 'The paused workflow', content: { 'application/json': { schema: WorkflowBody } } },
        400: errorResponse('Invalid body'),
        ...notFound,
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const body = (c.req.header('content-type') ?? '').includes('json') ? c.req.valid('json') : {};
      const current = await deps.workflows.require(name);
      // Pausing a paused workflow keeps who paused it first and when: the answer to "since when?".
      if (current.paused) return c.json(presentWorkflow(current), 200);
      const by = principalOf(c)?.name ?? 'anonymous';
      const wf = await deps.workflows.setPaused(name, { by, at: new Date().toISOString(), ...(body?.reason ? { reason: body.reason } : {}) });
      await deps.emit({ tags: ['workflows', `workflows:${name}`], type: 'workflow.paused', value: { workflow: name, ...wf.paused } });
      return c.json(presentWorkflow(wf), 200);
    },
  );
  r.openapi(
    createRoute({
      method: 'post',
      path: '/workflows/{name}/resume',
      summary: "Resume the workflow's triggers (those refused while paused are not replayed)",
      request: { params },
      responses: { 200: { description: 'The workflow, no longer paused', content: { 'application/json': { schema: WorkflowBody } } }, ...notFound },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const current = await deps.workflows.require(name);
      if (!current.paused) return c.json(presentWorkflow(current), 200);
      const wf = await deps.workflows.setPaused(name, null);
      await deps.emit({
        tags: ['workflows', `workflows:${name}`],
        type: 'workflow.resumed',
        value: { workflow: name, by: principalOf(c)?.name ?? 'anonymous', pausedSince: current.paused.at },
      });
      return c.json(presentWorkflow(wf), 200);
    },
  );
  return r;
}
