import { createRoute, z } from '@hono/zod-openapi';
import { SKIP_REASONS, TRIGGER_KINDS, TRIGGER_OUTCOMES } from '../../engine/domain/trigger-record.ts';
import { NameSchema } from '../../engine/domain/workflow.ts';
import type { TriggerHistory } from '../../engine/ports/trigger-history.ts';
import type { WorkflowStore } from '../../engine/ports/workflow-store.ts';
import { errorResponse } from '../error-body.ts';
import { createRouter } from '../validation.ts';

const TriggerRecordBody = z
  .object({
    at: z.string(),
    trigger: z.enum(TRIGGER_KINDS),
    outcome: z.enum(TRIGGER_OUTCOMES),
    reason: z.enum(SKIP_REASONS).optional(),
    runId: z.string().optional().describe('the run started, or the active run that made it skip'),
    tick: z.string().optional(),
    eventId: z.string().optional(),
    signalId: z.string().optional(),
    index: z.string().optional(),
    count: z.number().optional().describe('missed: how many ticks this record stands for'),
    from: z.string().optional(),
    to: z.string().optional(),
  })
  .openapi('TriggerRecord');

export interface TriggerRouteDeps {
  workflows: WorkflowStore;
  history: Pick<TriggerHistory, 'recent'>;
}

/** A workflow's recent trigger outcomes: what fired, what queued, what was skipped and why. */
export function createTriggerRoutes(deps: TriggerRouteDeps) {
  const r = createRouter();
  r.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{name}/triggers',
      summary: 'Recent trigger outcomes, newest first: fired, queued (behind an active run) or skipped with the reason',
      request: { params: z.object({ name: NameSchema }), query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }) },
      responses: {
        200: { description: 'Trigger history', content: { 'application/json': { schema: z.object({ entries: z.array(TriggerRecordBody) }) } } },
        404: errorResponse('No such workflow'),
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const { limit } = c.req.valid('query');
      await deps.workflows.require(name);
      return c.json({ entries: await deps.history.recent(name, { limit }) }, 200);
    },
  );
  return r;
}
