import { createRoute, z } from '@hono/zod-openapi';
import { SignalInputSchema } from '../../engine/domain/signal.ts';
import { NameSchema } from '../../engine/domain/workflow.ts';
import type { SignalStore } from '../../engine/ports/signal-store.ts';
import type { WorkflowStore } from '../../engine/ports/workflow-store.ts';
import type { SignalService } from '../../engine/runs/signal-service.ts';
import { principalOf } from '../auth.ts';
import { errorResponse } from '../error-body.ts';
import { createRouter } from '../validation.ts';

const SignalBody = z.object({ id: z.string(), name: z.string(), value: z.unknown(), sentAt: z.string(), sentBy: z.string() }).openapi('Signal');
const params = z.object({ name: NameSchema });

export interface SignalRouteDeps {
  workflows: WorkflowStore;
  signals: SignalStore;
  service: SignalService;
}

/** A workflow's signal inbox: post `promote`, `abort`, … for its runs to take (`ctx.signals.take`). */
export function createSignalRoutes(deps: SignalRouteDeps) {
  const r = createRouter();
  r.openapi(
    createRoute({
      method: 'post',
      path: '/workflows/{name}/signals',
      summary: "Send a signal to a workflow's runs; with `trigger.signals: true` it also starts a run at once",
      request: { params, body: { required: true, content: { 'application/json': { schema: SignalInputSchema } } } },
      responses: {
        201: {
          description: 'Stored in the inbox; `run` is the run it started (null when none, with `skipped` saying why)',
          content: {
            'application/json': {
              schema: z.object({ signal: SignalBody, run: z.object({ id: z.string() }).passthrough().nullable().optional(), skipped: z.string().optional() }),
            },
          },
        },
        400: errorResponse('Invalid signal; `details.issues` names the field (`name`, `value`)'),
        404: errorResponse('No such workflow'),
        409: errorResponse('WORKFLOW.DELETED: the workflow was deleted; SIGNAL.INBOX_FULL: too many pending signals'),
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const input = c.req.valid('json');
      const { signal, start } = await deps.service.send(name, input, principalOf(c)?.name ?? 'anonymous');
      if (!start) return c.json({ signal }, 201);
      return c.json(start.started ? { signal, run: start.run } : { signal, run: null, skipped: start.reason }, 201);
    },
  );
  r.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{name}/signals',
      summary: 'Pending signals, oldest first (taken ones reappear if their run does not succeed)',
      request: { params },
      responses: {
        200: { description: 'Pending signals', content: { 'application/json': { schema: z.object({ signals: z.array(SignalBody) }) } } },
        404: errorResponse('No such workflow'),
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      await deps.workflows.require(name);
      return c.json({ signals: await deps.signals.pending(name) }, 200);
    },
  );
  return r;
}
