import { createRoute, z } from '@hono/zod-openapi';
import { MAX_SECRET_BYTES, NO_KEY_HINT, type SecretService } from '../../engine/connect/secret-service.ts';
import { DRY_RUN_OUTCOMES, DryRunQuerySchema } from '../../engine/domain/dry-run-put.ts';
import { MetadataFields } from '../../engine/domain/metadata.ts';
import { NameSchema } from '../../engine/domain/workflow.ts';
import { NotFoundError } from '../../engine/shared/errors.ts';
import { errorResponse } from '../error-body.ts';
import { createRouter } from '../validation.ts';

const params = z.object({ name: NameSchema });
const MetaFields = {
  name: z.string(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
};
const Meta = z.object(MetaFields).openapi('SecretMeta', { description: 'A secret as the API shows it: never its value' });
const SecretDryRun = z
  .object({
    outcome: z
      .enum(DRY_RUN_OUTCOMES)
      .describe('what the PUT would do: `unchanged` when the stored value (compared in constant time), labels and annotations are the same'),
    object: z
      .object({ ...MetaFields, createdAt: MetaFields.createdAt.optional(), updatedAt: MetaFields.updatedAt.optional() })
      .describe(
        'the metadata GET would answer after the PUT: `version` the one it would get, `createdAt` absent when created, `updatedAt` only when unchanged',
      ),
  })
  .openapi('SecretDryRun', { description: 'The answer of PUT ?dryRun=true: nothing was stored' });
const Body = z
  .object({
    value: z
      .string()
      .min(1, 'must not be empty')
      .refine((v) => Buffer.byteLength(v) <= MAX_SECRET_BYTES, `must be at most ${MAX_SECRET_BYTES} bytes`),
    ...MetadataFields,
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
      summary: 'Store a secret (a new version); the value is never returned; ?dryRun=true checks it and stores nothing',
      request: { params, query: DryRunQuerySchema, body: { required: true, content: { 'application/json': { schema: Body } } } },
      responses: {
        200: { description: 'Stored, or with ?dryRun=true a SecretDryRun', content: { 'application/json': { schema: z.union([Meta, SecretDryRun]) } } },
        400: errorResponse('Bad name or value (`details.issues` names the field)'),
        409: errorResponse('SECRETS.NO_KEY: VEER_SECRETS_KEY is not set'),
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const { value, labels, annotations } = c.req.valid('json');
      if (c.req.valid('query').dryRun === 'true') {
        const { outcome, meta } = await deps.secrets.plan(name, value, { labels, annotations });
        return c.json({ outcome, object: meta }, 200);
      }
      return c.json(await deps.secrets.put(name, value, { labels, annotations }), 200);
    },
  );
  r.openapi(
    createRoute({
      method: 'get',
      path: '/secrets',
      summary: 'Every secret: names, versions and times, never values',
      responses: {
        200: {
          description: 'Sorted by name',
          content: {
            'application/json': {
              schema: z.object({
                secrets: z.array(Meta),
                canSeal: z
                  .boolean()
                  .describe('false: VEER_SECRETS_KEY is not set here, so a PUT answers 409 SECRETS.NO_KEY (and stored secrets cannot be opened)'),
                hint: z.string().optional().describe('with canSeal false: how to set the key'),
              }),
            },
          },
        },
      },
    }),
    async (c) => {
      const secrets = await deps.secrets.list();
      if (deps.secrets.canSeal()) return c.json({ secrets, canSeal: true }, 200);
      return c.json({ secrets, canSeal: false, hint: NO_KEY_HINT }, 200);
    },
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
