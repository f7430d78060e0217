import { createRoute, z } from '@hono/zod-openapi';
import { NameSchema } from '../../engine/domain/workflow.ts';
import { STATE_LIMITS, type StateStore } from '../../engine/ports/state-store.ts';
import type { WorkflowStore } from '../../engine/ports/workflow-store.ts';
import { NotFoundError, ValidationError } from '../../engine/shared/errors.ts';
import { errorResponse } from '../error-body.ts';
import { createRouter } from '../validation.ts';

const params = z.object({ name: NameSchema });
const keyParams = z.object({
  name: NameSchema,
  key: z
    .string()
    .min(1)
    .refine((k) => Buffer.byteLength(k) <= STATE_LIMITS.keyBytes, `must be at most ${STATE_LIMITS.keyBytes} bytes`),
});
const notFound = { 404: errorResponse('No such workflow (or key)') };

export interface WorkflowStateDeps {
  workflows: WorkflowStore;
  state: StateStore;
}

/** The state a workflow's script keeps (`ctx.state`): visible, editable and resettable without deleting the workflow. */
export function createWorkflowStateRoutes(deps: WorkflowStateDeps) {
  const r = createRouter();
  r.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{name}/state',
      summary: "The workflow's script state, every key",
      request: { params },
      responses: {
        200: { description: 'key → value', content: { 'application/json': { schema: z.object({ state: z.record(z.string(), z.unknown()) }) } } },
        ...notFound,
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      await deps.workflows.require(name);
      return c.json({ state: await deps.state.all(name) }, 200);
    },
  );
  r.openapi(
    createRoute({
      method: 'put',
      path: '/workflows/{name}/state/{key}',
      summary: 'Set one key; the body is the JSON value itself (≤ 64 KiB, ≤ 1000 keys)',
      request: { params: keyParams, body: { required: true, content: { 'application/json': { schema: z.unknown() } } } },
      responses: {
        200: { description: 'Stored', content: { 'application/json': { schema: z.object({ key: z.string(), value: z.unknown() }) } } },
        400: errorResponse('Not JSON, or over the state limits (`details.issues` names the key)'),
        ...notFound,
      },
    }),
    async (c) => {
      const { name, key } = c.req.valid('param');
      // Without a JSON body the validator has nothing to parse and hands over `{}`: storing that would be a silent wrong value.
      if (!(c.req.header('content-type') ?? '').includes('json'))
        throw new ValidationError('the body must be the JSON value to store, sent as Content-Type: application/json', [
          { path: 'body', message: 'missing JSON body' },
        ]);
      const value = c.req.valid('json');
      await deps.workflows.require(name);
      await deps.state.set(name, key, value);
      return c.json({ key, value }, 200);
    },
  );
  r.openapi(
    createRoute({
      method: 'delete',
      path: '/workflows/{name}/state/{key}',
      summary: 'Delete one key',
      request: { params: keyParams },
      responses: { 204: { description: 'Deleted' }, ...notFound },
    }),
    async (c) => {
      const { name, key } = c.req.valid('param');
      await deps.workflows.require(name);
      // An absent key is a 404 so a typo is not mistaken for a reset.
      if (!(await deps.state.delete(name, key))) throw new NotFoundError('state key', key);
      return c.body(null, 204);
    },
  );
  r.openapi(
    createRoute({
      method: 'delete',
      path: '/workflows/{name}/state',
      summary: "Reset the workflow's state (every key); the next run starts from nothing",
      request: { params },
      responses: {
        200: { description: 'How many keys were deleted', content: { 'application/json': { schema: z.object({ deleted: z.number() }) } } },
        ...notFound,
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      await deps.workflows.require(name);
      return c.json({ deleted: await deps.state.clear(name) }, 200);
    },
  );
  return r;
}
