import { createRoute, z } from '@hono/zod-openapi';
import { NotFoundError } from '../../engine/shared/errors.ts';
import type { Template } from '../template-catalog.ts';
import { errorResponse } from '../error-body.ts';
import { createRouter } from '../validation.ts';

const TemplateBody = z.object({ name: z.string(), description: z.string(), workflow: z.object({}).passthrough() });

/** The built-in workflows (workflows/*.ts) as ready-to-PUT bodies. */
export function createTemplateRoutes(deps: { templates: Template[] }) {
  const r = createRouter();
  r.openapi(
    createRoute({
      method: 'get',
      path: '/templates',
      summary: 'Built-in workflow scripts',
      responses: { 200: { description: 'Templates', content: { 'application/json': { schema: z.object({ templates: z.array(TemplateBody) }) } } } },
    }),
    (c) => c.json({ templates: deps.templates }, 200),
  );
  r.openapi(
    createRoute({
      method: 'get',
      path: '/templates/{name}',
      summary: 'One built-in workflow; PUT its `workflow` to /workflows/{name} after editing env and permissions',
      request: { params: z.object({ name: z.string() }) },
      responses: { 200: { description: 'Template', content: { 'application/json': { schema: TemplateBody } } }, 404: errorResponse('No such template') },
    }),
    (c) => {
      const t = deps.templates.find((x) => x.name === c.req.valid('param').name);
      if (!t) throw new NotFoundError('template', c.req.valid('param').name);
      return c.json(t, 200);
    },
  );
  return r;
}
