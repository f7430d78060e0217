import type { ErrorCode } from './error-catalogue.ts';

export type { ErrorCode } from './error-catalogue.ts';

/**
 * One error family for the whole system. Every error carries a stable string `code`
 * so that it can be classified after crossing a boundary (child process, job, HTTP),
 * where `instanceof` no longer works. Codes come from the closed catalogue
 * (error-catalogue.ts), which also gives each its HTTP status and log level; the API
 * maps them in one place (api/error-handler.ts).
 */
export interface ErrorData {
  /** A catalogued code when this process made it; data from elsewhere may carry any string. */
  name: string;
  code: string;
  message: string;
  retryable?: boolean;
  details?: unknown;
  stack?: string;
}

export interface VeerErrorOptions {
  retryable?: boolean;
  details?: unknown;
  cause?: unknown;
}

export class VeerError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: VeerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  toData(): ErrorData {
    return { name: this.name, code: this.code, message: this.message, retryable: this.retryable, details: this.details, stack: this.stack };
  }
}

/** One problem with an input, named by its field path (`limits.timeoutMs`, `routes.v1.weight`). */
export interface Issue {
  path: string;
  message: string;
  /** 1-based position in a text field (a script, a condition), when known. */
  line?: number;
  column?: number;
}

/** Input that does not satisfy a schema. `details.issues` lists `{ path, message }`. */
export class ValidationError extends VeerError {
  constructor(message: string, issues: Issue[]) {
    super('VALIDATION', message, { details: { issues } });
  }
}

export class NotFoundError extends VeerError {
  constructor(kind: string, name: string) {
    super('NOT_FOUND', `${kind} '${name}' does not exist`, { details: { kind, name } });
  }
}

/** A write raced with another (stale revision, already exists, wrong state). */
export class ConflictError extends VeerError {
  constructor(message: string, details?: unknown) {
    super('CONFLICT', message, { details });
  }
}

export class UnauthorizedError extends VeerError {
  constructor(message = 'missing or invalid bearer token: send "Authorization: Bearer <token>" with one of VEER_API_TOKENS') {
    super('UNAUTHORIZED', message);
  }
}

/** A workflow tried to touch something its `permissions` do not grant. */
export class PermissionError extends VeerError {
  constructor(message: string, details?: unknown) {
    super('PERMISSION', message, { details });
  }
}

/** A backing service (Redis, a KV store, a scheduler, Elasticsearch) failed or is unreachable. */
export class UnavailableError extends VeerError {
  constructor(code: ErrorCode, message: string, options: VeerErrorOptions = {}) {
    super(code, message, { retryable: true, ...options });
  }
}

/**
 * Rebuilds an error from data; classification stays by `code`. The code is kept as sent
 * even when this process does not know it (a newer peer): `catalogueEntry` classifies
 * such codes by their kind.
 */
export function fromErrorData(data: ErrorData): VeerError {
  const e = new VeerError(data.code as ErrorCode, data.message, { retryable: data.retryable, details: data.details });
  e.name = data.name;
  if (data.stack) e.stack = data.stack;
  return e;
}
