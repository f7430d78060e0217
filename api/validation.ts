import { OpenAPIHono } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { ValidationError } from '../engine/shared/errors.ts';

/** Turns zod issues into `{ path: "limits.timeoutMs", message }` entries. */
export function issuesOf(error: ZodError, prefix = ''): Array<{ path: string; message: string }> {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: i.message,
  }));
}

export function validationError(error: ZodError, prefix = ''): ValidationError {
  const issues = issuesOf(error, prefix);
  return new ValidationError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}

/**
 * Every route module builds its sub-app with this, so request validation failures become
 * the same 400 body everywhere: `{ code: 'VALIDATION', message, details: { issues } }`.
 */
export function createRouter(): OpenAPIHono {
  return new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error as unknown as ZodError);
    },
  });
}
