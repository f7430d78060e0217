/**
 * The closed list of error codes Veer raises, each with the HTTP status the API answers
 * with and the level the API logs it at. `new VeerError(code, …)` accepts only these codes
 * (the `ErrorCode` type), and test/api/error-catalogue.test.ts fails when the tree uses a
 * code that is not listed here. The one mapper (api/error-handler.ts) reads both columns,
 * so a new code is added here once, not in every place that classifies errors.
 *
 * Codes are `KIND` for generic kinds and `<AREA>.<KIND>` for an area's own family
 * (`KV.UNAVAILABLE`, `SANDBOX.TIMEOUT`). Areas that speak for a backing store share the
 * kinds `UNAVAILABLE` (retryable; 503), `INVALID` (400), `CONFLICT` (409), `NOT_FOUND` (404).
 *
 * Levels: `debug` for a caller's mistake, `info` for a refusal worth seeing, `warn` for a
 * backing service that is down (expected to recover), `error` for what needs a person.
 * Codes a run ends with (SANDBOX.*, SCRIPT.*, RUN.*) travel as run data, not HTTP answers;
 * their status is what the API would answer if one ever surfaced there.
 */
export type ErrorLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ErrorCatalogueEntry {
  status: number;
  level: ErrorLogLevel;
  /** What it means, for the reader of a log line or an API answer. */
  meaning: string;
}

const caller = (status: number, meaning: string) => ({ status, level: 'debug', meaning }) as const;
const refused = (status: number, meaning: string) => ({ status, level: 'info', meaning }) as const;
const down = (meaning: string) => ({ status: 503, level: 'warn', meaning }) as const;
const broken = (meaning: string) => ({ status: 500, level: 'error', meaning }) as const;

export const ERROR_CATALOGUE = {
  // Generic kinds.
  VALIDATION: caller(400, 'input does not satisfy its schema; details.issues names each field'),
  UNAUTHORIZED: refused(401, 'missing or wrong bearer token'),
  PERMISSION: refused(403, "a workflow touched something its permissions do not grant, or an event used a tag or type reserved for Veer's own"),
  FORBIDDEN: refused(403, "the API token lacks the scope the route needs, or the resource is outside the token's globs"),
  CSRF: refused(403, "a dashboard session's mutating request without its x-veer-csrf header, or from another origin"),
  RATE_LIMITED: refused(429, 'too many failed logins from this address; retry after the seconds in Retry-After'),
  NOT_FOUND: caller(404, 'no such resource (or route)'),
  CONFLICT: refused(409, 'a write raced with another, or the resource is in the wrong state'),
  PAYLOAD_TOO_LARGE: refused(413, 'request body over the API limit'),
  HTTP: caller(400, "a protocol-level refusal from the HTTP framework; the exception's own status is answered"),
  CONFIG: broken('a bad or missing configuration value; start-up stops naming the variable'),
  INTERNAL: broken('an unexpected error; the log has the stack under the request id'),

  // Backing stores.
  'REDIS.UNAVAILABLE': down('Redis is unreachable or failing'),
  'KV.UNAVAILABLE': down('the KV store is unreachable or failing; a failed write was applied whole or not at all'),
  'KV.CONFLICT': refused(409, 'a compare-and-set (ifRevision) did not match'),
  'KV.INVALID': caller(400, 'a bad key, prefix, position or option'),
  'KV.COMPACTED': broken('a watch position older than the store keeps: list again and watch from the new position'),
  'EVENTS.UNAVAILABLE': down('the event store is unreachable or failing'),
  'EVENTS.INVALID': caller(400, 'a cursor, checkpoint or query the event store rejected'),
  'METRICS.UNAVAILABLE': down('the metrics store is unreachable or failing'),
  'METRICS.INVALID': caller(400, 'a metrics query the store cannot answer (window out of range)'),

  // Schedulers (deployment drivers).
  'SCHEDULER.NOT_FOUND': caller(404, 'no such deployment on the scheduler'),
  'SCHEDULER.FORBIDDEN': { status: 403, level: 'warn', meaning: "the scheduler refused Veer's credentials" },
  'SCHEDULER.CONFLICT': refused(409, 'the scheduler reported a concurrent change or a running rollout'),
  'SCHEDULER.INVALID': caller(400, 'a request the driver cannot honour (bad value, ability it lacks)'),
  'SCHEDULER.UNAVAILABLE': down('the scheduler is unreachable'),
  'SCHEDULER.TIMEOUT': down('a deployment was not ready in time'),

  // Gateways and the HAProxy agent.
  'GATEWAY.INVALID': caller(400, 'a value HAProxy cannot take'),
  'GATEWAY.RUNTIME_API': broken('HAProxy refused a runtime API command'),
  'GATEWAY.HAPROXY_UNAVAILABLE': down("HAProxy's runtime API socket does not answer"),
  'GATEWAY.HAPROXY_FAILED': broken('HAProxy failed to start or reload'),

  // How a run ends (run data).
  'SCRIPT.INVALID': caller(400, 'the script does not compile or link'),
  'SCRIPT.ERROR': { status: 500, level: 'info', meaning: 'the script threw' },
  'SANDBOX.TIMEOUT': { status: 500, level: 'info', meaning: 'the script passed limits.timeoutMs' },
  'SANDBOX.CPU_LIMIT': { status: 500, level: 'info', meaning: 'the script passed limits.cpuMs' },
  'SANDBOX.MEMORY_LIMIT': { status: 500, level: 'info', meaning: 'the script passed limits.memoryMb' },
  'SANDBOX.RESULT_TOO_LARGE': { status: 500, level: 'info', meaning: "the script's result is over the size limit" },
  'RESULT.UNSERIALISABLE': {
    status: 500,
    level: 'info',
    meaning: "the script's result cannot be stored as JSON (a cycle, a BigInt, nesting over 100 levels, a throwing toJSON)",
  },
  'SANDBOX.CANCELLED': { status: 500, level: 'info', meaning: 'the run was cancelled while in the sandbox' },
  'SANDBOX.NO_SUCH_CAPABILITY': { status: 500, level: 'info', meaning: 'the script called a ctx method this run does not have' },
  'SANDBOX.CRASHED': { status: 500, level: 'warn', meaning: 'the sandbox process died under the run, which had it to itself' },
  'SANDBOX.MEMORY': { status: 500, level: 'warn', meaning: 'the run alone grew its sandbox process past VEER_SANDBOX_CHILD_MEMORY_MB' },
  'SANDBOX.UNRESPONSIVE': { status: 500, level: 'warn', meaning: 'the run did not stop when told to, or its process went silent; killed' },
  'SANDBOX.PROCESS_LOST': { status: 500, level: 'info', meaning: 'the shared sandbox process died; the run is re-run alone, free' },
  'SANDBOX.QUARANTINED': refused(423, 'the workflow version killed its sandbox process too often; upload a new version to release it'),
  'SANDBOX.UNAVAILABLE': down('no sandbox process could take the run'),
  'SANDBOX.CLOSED': { status: 500, level: 'info', meaning: 'the sandbox is shutting down' },
  'SANDBOX.INVALID_REQUEST': broken('the engine sent the sandbox a request it cannot run'),
  'SANDBOX.INTERNAL': broken('the sandbox itself failed'),
  'RUN.CANCELLED': { status: 500, level: 'info', meaning: 'the run was cancelled before it finished' },
  'WORKFLOW.DELETED': refused(409, 'the workflow was deleted (within the last 30 days); a signal or change for it has nowhere to go'),
  'RUN.ENGINE_LOST': { status: 500, level: 'warn', meaning: "the engine running the run stopped (its heartbeat expired); a later trigger's run superseded it" },
  'RUN.WORKFLOW_GONE': { status: 500, level: 'info', meaning: "the run's workflow version was deleted before it ran" },

  // Signals.
  'SIGNAL.INBOX_FULL': refused(409, "the workflow's inbox already holds SIGNAL_INBOX_MAX pending signals; its runs must take some first"),

  // Per-run budgets (engine/sandbox/run-budget.ts, VEER_BUDGET_*): the run ends failed with the budget's code.
  'BUDGET.HOST_CALLS': refused(429, 'the run made more ctx calls than VEER_BUDGET_HOST_CALLS'),
  'BUDGET.HOST_CALLS_IN_FLIGHT': refused(429, 'the run had more ctx calls waiting at once than VEER_BUDGET_HOST_CALLS_IN_FLIGHT'),
  'BUDGET.BYTES_RETURNED': refused(429, 'ctx calls returned more bytes to the run than VEER_BUDGET_BYTES_RETURNED'),
  'BUDGET.EVENTS_EMITTED': refused(429, 'the run emitted more events than VEER_BUDGET_EVENTS_EMITTED'),
  'BUDGET.EVENT_RESULTS': refused(429, 'ctx.events.query returned more events to the run than VEER_BUDGET_EVENT_RESULTS'),
  'BUDGET.METRICS_WINDOW': refused(429, 'a ctx.metrics.gateway window longer than VEER_BUDGET_METRICS_WINDOW_MS'),
  'BUDGET.HTTP_REQUESTS': refused(429, 'the run sent more ctx.http.fetch requests than VEER_BUDGET_HTTP_REQUESTS'),

  // Connecting to the user's stack: outbound HTTP, secrets, Prometheus, notifiers.
  'HTTP.UNAVAILABLE': down('an outbound request from ctx.http.fetch could not connect or timed out'),
  'HTTP.TOO_LARGE': refused(413, 'a response to ctx.http.fetch was larger than VEER_HTTP_MAX_BYTES'),
  'HTTP.REDIRECTS': refused(
    502,
    'a ctx.http.fetch request was redirected more than VEER_HTTP_MAX_REDIRECTS times (a redirect without a Location is answered as it is)',
  ),
  'SECRETS.NO_KEY': refused(409, 'secrets cannot be stored or read: VEER_SECRETS_KEY is not set'),
  'SECRETS.UNREADABLE': broken('a stored secret cannot be decrypted with VEER_SECRETS_KEY or VEER_SECRETS_KEY_PREVIOUS'),
  'PROMETHEUS.NOT_CONFIGURED': refused(409, 'ctx.metrics.prometheus was called but VEER_PROMETHEUS_URL is not set'),
  'PROMETHEUS.UNAVAILABLE': down('Prometheus is unreachable, timed out or answered 5xx'),
  'PROMETHEUS.QUERY': caller(400, "Prometheus rejected the query; the message is Prometheus' own"),

  // KV store refusals that no retry fixes (adapters/kv/errors.ts). FORBIDDEN answers 503, not
  // 403: the API caller is not the one refused, Veer's own store credentials are.
  'KV.FORBIDDEN': { status: 503, level: 'error', meaning: "the KV store's ACLs refuse Veer's token (VEER_KV_TOKEN) a read or write under the prefix" },
  'KV.TOO_LARGE': refused(413, "a KV write over the store's request size limit (Consul: a /v1/txn body over 512 KiB)"),
} as const satisfies Record<string, ErrorCatalogueEntry>;

/** Every code Veer raises. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The areas whose codes are `<AREA>.<KIND>`. */
export type ErrorArea = ErrorCode extends infer C ? (C extends `${infer A}.${string}` ? A : never) : never;

/** The kinds an area has: `ErrorKind<'KV'>` is 'UNAVAILABLE' | 'CONFLICT' | 'INVALID' | 'COMPACTED'. */
export type ErrorKind<A extends ErrorArea> = ErrorCode extends infer C ? (C extends `${A}.${infer K}` ? K : never) : never;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code);
}

/**
 * A family code built from its parts, for adapters that serve several areas (the
 * Elasticsearch adapter is both an event and a metrics store): `areaCode('EVENTS', 'INVALID')`.
 * Typed so only catalogued pairs compile; checked at run time for areas chosen at run time.
 */
export function areaCode<A extends ErrorArea, K extends ErrorKind<A>>(area: A, kind: K): `${A}.${K}` & ErrorCode {
  const code = `${area}.${kind}`;
  if (!isErrorCode(code)) throw new TypeError(`error code ${code} is not in the catalogue (engine/shared/error-catalogue.ts)`);
  return code as `${A}.${K}` & ErrorCode;
}

/** How an uncatalogued `<AREA>.<KIND>` code is classified: by its kind. */
const BY_KIND: Record<string, ErrorCatalogueEntry> = {
  NOT_FOUND: ERROR_CATALOGUE.NOT_FOUND,
  CONFLICT: ERROR_CATALOGUE.CONFLICT,
  FORBIDDEN: ERROR_CATALOGUE['SCHEDULER.FORBIDDEN'],
  INVALID: ERROR_CATALOGUE.VALIDATION,
  UNAVAILABLE: ERROR_CATALOGUE['REDIS.UNAVAILABLE'],
};

/**
 * Status and level for any code, catalogued or not: a code that arrives as data from
 * another process or an older version is classified by its kind (`X.NOT_FOUND` as 404,
 * `X.UNAVAILABLE` or a retryable error as 503, anything else as INTERNAL) rather than
 * failing the answer.
 */
export function catalogueEntry(code: string, retryable = false): ErrorCatalogueEntry {
  if (isErrorCode(code)) return ERROR_CATALOGUE[code];
  const kind = code.slice(code.lastIndexOf('.') + 1);
  if (code.includes('.') && Object.hasOwn(BY_KIND, kind)) return BY_KIND[kind];
  return retryable ? BY_KIND.UNAVAILABLE : ERROR_CATALOGUE.INTERNAL;
}
