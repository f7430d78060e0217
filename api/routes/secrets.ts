import { createRoute, z } from '@hono/zod-openapi';
import { MAX_SECRET_BYTES, type SecretService } from '../../engine/connect/secret-service.ts';
import { NameSchema } from '../../engine/domain/workflow.ts';
import { NotFoundError } from '../../engine/shared/errors.ts';
import { errorResponse } from '../error-body.ts';
import { createRouter } from '../validation.ts';

const params = z.object({ name: NameSchema });
const Meta = z
  .object({ name: z.string(), version: z.number().int(), createdAt: z.string(), updatedAt: z.string() })
  .openapi('SecretMeta', { description: 'A secret as the API shows it: never its value' });
const Body = z
  .object({
    value: z
      .string()
      .min(1, 'must not be empty')
      .refine((v) => Buffer.byteLength(v) <= MAX_SECRET_BYTES, `must be at most ${MAX_SECRET_BYTES} bytes`),
  })
  .strict();

/**
 * Secrets scripts read with ctx.secrets.get (when `permissions.secrets` names them). Write-only:
 * no route answers a value. Stored sealed with AES-256-GCM under VEER_SECRETS_KEY; without the
 * key, PUT answers 409 SECRETS.NO_KEY saying how to set one.
 */
export function createSecretRoutes(deps: { secrets: SecretService }) {
  const r = createRouter();
  r.openapi(
    createRoute({
      method: 'put',
      path: '/secrets/{name}',
      summary: 'Store a secret (a new version); the value is never returned',
      request: { params, body: { required: true, content: { 'application/json': { schema: Body } } } },
      responses: {
        200: { description: 'Stored', content: { 'application/json': { schema: Meta } } },
        400: errorResponse('Bad name or value (`details.issues` names the field)'),
        409: errorResponse('SECRETS.NO_KEY: VEER_SECRETS_KEY is not set'),
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const { value } = c.req.valid('json');
      return c.json(await deps.secrets.put(name, value), 200);
    },
  );
  r.openapi(
    createRoute({
      method: 'get',
      path: '/secrets',
      summary: 'Every secret: names, versions and times, never values',
      responses: { 200: { description: 'Sorted by name', content: { 'application/json': { schema: z.object({ secrets: z.array(Meta) }) } } } },
    }),
    async (c) => c.json({ secrets: await deps.secrets.list() }, 200),
  );
  r.openapi(
    createRoute({
      method: 'get',
      path: '/secrets/{name}',
      summary: "One secret's name, version and times, never its value",
      request: { params },
      responses: { 200: { description: 'The secret', content: { 'application/json': { schema: Meta } } }, 404: errorResponse('No such secret') },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const meta = await deps.secrets.get(name);
      if (!meta) throw new NotFoundError('secret', name);
      return c.json(meta, 200);
    },
  );
  r.openapi(
    createRoute({
      method: 'delete',
      path: '/secrets/{name}',
      summary: 'Remove a secret; runs that read it afterwards fail NOT_FOUND',
      request: { params },
      responses: { 204: { description: 'Removed' }, 404: errorResponse('No such secret') },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      if (!(await deps.secrets.delete(name))) throw new NotFoundError('secret', name);
      return c.body(null, 204);
    },
  );
  return r;
}
