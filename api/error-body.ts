import { z } from '@hono/zod-openapi';

/**
 * The one error body every API answer uses: `{ code, message, details?, requestId }`.
 * The schema is declared here once for the OpenAPI document; `errorBody` builds every
 * body (error handler, unknown routes, oversized bodies), so they cannot drift apart.
 */
export const ErrorBodySchema = z
  .object({
    code: z.string().describe('a code of the error catalogue (engine/shared/error-catalogue.ts): VALIDATION, NOT_FOUND, KV.UNAVAILABLE, …'),
    message: z.string().describe('what went wrong and what to check'),
    details: z.unknown().optional().describe('for VALIDATION: `issues`, one `{ path, message, line?, column? }` per problem'),
    requestId: z.string().optional().describe('also the x-request-id header; the server log names it'),
  })
  .openapi('Error');

export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export function errorBody(err: { code: string; message: string; details?: unknown }, requestId: string | undefined): ErrorBody {
  return { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }), requestId };
}

/** An OpenAPI response entry for an error status: `responses: { 404: errorResponse('No such workflow') }`. */
export function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: ErrorBodySchema } } };
}
