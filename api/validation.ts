import { OpenAPIHono } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { validationErrorFromZod } from '../engine/shared/issues.ts';

/**
 * Every route module builds its sub-app with this, so request validation failures become
 * the same 400 body everywhere: `{ code: 'VALIDATION', message, details: { issues } }`,
 * with every issue of the input (engine/shared/issues.ts is the one conversion).
 */
export function createRouter(): OpenAPIHono {
  return new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) throw validationErrorFromZod(result.error as unknown as ZodError);
    },
  });
}
