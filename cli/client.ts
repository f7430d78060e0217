import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './api/schema.ts';
import { CliError, EXIT, type ExitCode } from './errors.ts';
import type { Connection } from './connection.ts';

/** The typed API client (generated types: cli/api/schema.ts), bound to one connection. */
export type VeerClient = Client<paths>;

export function createVeerClient(conn: Connection): VeerClient {
  return createClient<paths>({
    baseUrl: conn.url.replace(/\/+$/, ''),
    headers: conn.token ? { authorization: `Bearer ${conn.token}` } : {},
  });
}

interface ApiErrorBody {
  code?: string;
  message?: string;
  details?: { issues?: Array<{ path?: string; message?: string; line?: number; column?: number }> };
}

const byStatus = (status: number, code: string | undefined): ExitCode => {
  if (status === 404 || code === 'NOT_FOUND') return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  // 502/503 name an unreachable dependency behind the API (Redis, a scheduler): the API answered.
  return EXIT.failed;
};

/** The API's message, then one line per issue with its field (and line/column for scripts). */
export function describeApiError(status: number, body: unknown): string {
  const b = (typeof body === 'object' && body !== null ? body : {}) as ApiErrorBody;
  const head = `${b.code ?? `HTTP ${status}`}: ${b.message ?? (typeof body === 'string' && body ? body : 'no message')}`;
  const issues = b.details?.issues ?? [];
  // A single issue the API already spelt out in its message is not repeated.
  const only = issues.length === 1 ? issues[0]! : undefined;
  if (only && only.line === undefined && only.message && head.includes(only.message)) return head;
  const lines = issues.map((i) => `  ${i.path ?? '(body)'}${i.line !== undefined ? ` (line ${i.line}, column ${i.column ?? 1})` : ''}: ${i.message ?? ''}`);
  return [head, ...lines].join('\n');
}

/** A CliError for an API error answer, with the exit code its status stands for. */
export function apiError(status: number, body: unknown): CliError {
  const code = (body as ApiErrorBody | undefined)?.code;
  return new CliError(describeApiError(status, body), byStatus(status, code), code);
}

/** An error thrown by fetch itself: the API did not answer at all. */
export function unreachable(url: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return new CliError(`cannot reach the Veer API at ${url} (${why}); is it running? (--url, VEER_URL or the current context)`, EXIT.unreachable);
}

/**
 * Awaits one openapi-fetch call and returns its data, or throws the CliError for its answer.
 * Every command goes through here, so every command maps statuses to exit codes alike.
 */
export async function send<T>(conn: Connection, call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let res: { data?: T; error?: unknown; response: Response };
  try {
    res = await call;
  } catch (err) {
    throw unreachable(conn.url, err);
  }
  if (!res.response.ok) throw apiError(res.response.status, res.error);
  return res.data as T;
}
