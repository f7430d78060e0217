import createClient from 'openapi-fetch';
import type { paths } from '../../cli/api/schema.ts';

/** The typed API client, generated from the OpenAPI document (cli/api/schema.ts), same origin. */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });

/** The session's CSRF token (GET /api/v1/session), sent on every request that is not a GET. */
let csrf: string | undefined;
export function setCsrf(token: string | undefined): void {
  csrf = token;
}

const unauthorized = new Set<() => void>();
/** Called when any request answers 401: the session ended (expired, logged out elsewhere, token removed). */
export function onUnauthorized(listener: () => void): () => void {
  unauthorized.add(listener);
  return () => unauthorized.delete(listener);
}

api.use({
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD' && csrf) request.headers.set('x-veer-csrf', csrf);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401 && !new URL(response.url).pathname.endsWith('/api/v1/session')) for (const l of unauthorized) l();
    return response;
  },
});

export interface Issue {
  path?: string;
  message?: string;
  line?: number;
  column?: number;
}

/** An API error answer, with the fields the pages show: code, message, and each issue (line/column for scripts). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: Issue[];
  readonly details: unknown;
  constructor(status: number, body: unknown) {
    const b = (typeof body === 'object' && body !== null ? body : {}) as { code?: string; message?: string; details?: { issues?: Issue[] } };
    super(b.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = b.code ?? `HTTP_${status}`;
    this.issues = b.details?.issues ?? [];
    this.details = b.details;
  }
}

/** Awaits one client call: its data, or an ApiError for its answer. */
export async function call<T>(request: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await request;
  if (!response.ok) throw new ApiError(response.status, error);
  return data as T;
}
