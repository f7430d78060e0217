/**
 * The script contract: what a workflow script sees as `ctx`, for the scripts we ship and for
 * users who write TypeScript (`import type { Ctx } from './workflows/types.ts'`). Type-only
 * imports are erased at upload; nothing can be imported at run time.
 *
 * This file imports nothing, so it can be published as it is. The engine's capability
 * implementations are typed against these interfaces (engine/sandbox/capabilities.ts), so a
 * method or result that drifts from what is written here is a type error in the engine.
 *
 * Everything crosses the sandbox boundary as JSON: results are copies, `undefined` fields are
 * dropped, and there are no Dates or class instances (times are ISO-8601 strings).
 */

// ---- ctx data ------------------------------------------------------------------------------

export type EnvValue = string | number | boolean | null;

/** Why the run started. */
export type RunTrigger =
  | { type: 'manual' }
  /** `tick`: the ISO-8601 time the schedule fired for; `catchUp` when it ran late, after a restart. */
  | { type: 'cron'; tick: string; catchUp?: boolean }
  /** `hops`: how many event-triggered runs led to the event (absent: 0); what this run emits counts one more. */
  | { type: 'event'; eventId: string; hops?: number }
  | { type: 'elasticsearch'; index: string; count: number }
  /** Started by a posted signal (`trigger.signals: true`); the signal itself waits in the inbox for `ctx.signals.take`. */
  | { type: 'signal'; signalId: string; name: string };

/** The run's log (what the user sees), also reached through `console.*`. Entries are capped per run; long messages are cut. */
export interface ScriptLog {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

// ---- ctx.state -----------------------------------------------------------------------------

/** JSON values kept per workflow across runs (keys ≤ 256 bytes, values ≤ 64 KiB as JSON, ≤ 1000 keys). */
export interface StateCapability {
  /** The stored value, or undefined when the key is absent. `T` is not checked: it is what was stored. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Resolves to null once the value is stored. */
  set(key: string, value: unknown): Promise<null>;
  /** Resolves to whether the key existed. */
  delete(key: string): Promise<boolean>;
}

// ---- ctx.gateways --------------------------------------------------------------------------

export type GatewayBalance = 'roundrobin' | 'static-rr' | 'leastconn' | 'first' | 'source' | 'random' | 'uri';

export interface StaticTarget {
  host: string;
  port: number;
}

/** A route to a deployment's ready endpoints (resolved by the engine), by port name or number. */
export interface DeploymentTarget {
  deployment: string;
  port: string | number;
}

export interface GatewayRoute {
  /** Whole percent of the traffic not taken by conditions. */
  weight: number;
  condition?: string;
  /** Percent of the requests matching `condition` sent to this route. */
  conditionStrength: number;
  balance?: GatewayBalance;
  targets: StaticTarget[] | DeploymentTarget;
}

/** A gateway as scripts get it: the stored document plus its KV `revision`. */
export interface Gateway {
  name: string;
  port: number;
  mode: 'http' | 'tcp';
  sticky: 'none' | 'route' | 'instance';
  virtualHosts: string[];
  /** Route name → route; order matters for conditions. */
  routes: Record<string, GatewayRoute>;
  updatedAt: string;
  revision: string;
}

/** Fields to change; `null` removes a field (back to its default), a route set to `null` is removed. */
export interface GatewayPatch {
  port?: number;
  mode?: Gateway['mode'] | null;
  sticky?: Gateway['sticky'] | null;
  virtualHosts?: string[] | null;
  routes?: Record<string, { [K in keyof GatewayRoute]?: GatewayRoute[K] | null } | null>;
}

export interface SetWeightsOptions {
  /**
   * This change is a rollback: when it changes the weights, Veer emits `gateway.rolled_back`
   * (source `veer`, tagged `gateways:<name>`) with the weights before and after, the run, and
   * `cause` (e.g. the triggering event's id) and `reason`.
   */
  rollback?: { cause?: string; reason?: string };
}

/** Reads are open; changes need the gateway in `permissions.gateways` (PermissionError otherwise) and are written to the run log. */
export interface GatewaysCapability {
  /** Sorted by name. */
  list(): Promise<Gateway[]>;
  get(name: string): Promise<Gateway>;
  /** Absolute whole percentages by route name (routes not named keep theirs); all weights must then add up to 100 (or all be 0). */
  setWeights(name: string, weights: Record<string, number>, options?: SetWeightsOptions): Promise<Gateway>;
  update(name: string, patch: GatewayPatch): Promise<Gateway>;
}

// ---- ctx.deployments -----------------------------------------------------------------------

export type DeploymentStatus = 'ready' | 'progressing' | 'degraded' | 'unknown';

export interface DeploymentEndpoint {
  host: string;
  port: number;
  /** Only ready endpoints receive traffic. */
  ready: boolean;
  name?: string;
}

export interface Deployment {
  name: string;
  desiredInstances: number;
  readyInstances: number;
  /** Cores per instance, when the scheduler sets it. */
  cpu?: number;
  /** Bytes per instance, when set. */
  memory?: number;
  image?: string;
  command?: string;
  labels: Record<string, string>;
  /** 'ready': desired == ready and the rollout is complete; 'degraded': stuck or crash-looping. */
  status: DeploymentStatus;
  endpoints: DeploymentEndpoint[];
}

export interface ScaleRequest {
  instances?: number;
  cpu?: number;
  /** Bytes, or a quantity such as '256Mi' or '1G'. */
  memory?: number | string;
}

export interface WaitReadyOptions {
  /** Default and upper bound: what is left of the run's deadline. */
  timeoutMs?: number;
}

/** Reads are open; `scale` needs a `permissions.deployments` entry and stays within its bounds (refused, never clamped). */
export interface DeploymentsCapability {
  list(): Promise<Deployment[]>;
  get(name: string): Promise<Deployment>;
  /** Resolves once the scheduler accepted the change (not when it is ready); emits `deployment.scaled`. */
  scale(name: string, request: ScaleRequest): Promise<Deployment>;
  /** Resolves once the rollout is complete and every instance is ready. */
  waitReady(name: string, options?: WaitReadyOptions): Promise<Deployment>;
}

// ---- ctx.events ----------------------------------------------------------------------------

/** A stored event. Tags are expanded: `gateways:shop` also adds `gateways`. */
export interface VeerEvent {
  id: string;
  tags: string[];
  type: string;
  value: unknown;
  /** ISO-8601. */
  timestamp: string;
  /**
   * Who published it, set by Veer (never by the producer): `api`, `veer` (runs, gateway and
   * deployment changes), `workflow:<name>/<runId>` (ctx.events.emit) or `remote:<url>`.
   * Absent on events stored before Veer recorded it.
   */
  source?: string;
  /** Event-triggered runs between this event and its origin (absent: 0); triggers stop past a limit. */
  hops?: number;
}

export interface EmitEventInput {
  /** One tag or a list: `name` or `group:name`. `workflows:*`, `runs:*`, `gateways:*`, `deployments:*` are Veer's (PermissionError). */
  tags: string | string[];
  /** One word; default 'event'. `run.*`, `gateway.*`, `deployment.*`, `workflow.*`, `trigger.*` are Veer's (PermissionError). */
  type?: string;
  /** Any JSON value, at most 64 KiB. */
  value?: unknown;
}

export interface EventQuery {
  /** Events carrying all of these tags. */
  tags?: string | string[];
  type?: string;
  /** ISO-8601 or epoch ms. */
  since?: string | number;
  until?: string | number;
  /** Default 20, at most 100. */
  limit?: number;
}

export interface EventsCapability {
  /** Publishes through the event bus (triggers and streams see it) as `workflow:<name>/<runId>`, tagged `workflows:<this workflow>`. */
  emit(event: EmitEventInput): Promise<VeerEvent>;
  /** Stored events this workflow may read, newest first: its own (tagged `workflows:<this workflow>`) and tags granted in `permissions.events`. */
  query(filter?: EventQuery): Promise<VeerEvent[]>;
}

// ---- ctx.signals ---------------------------------------------------------------------------

/** A signal posted to the workflow (`POST /api/v1/workflows/{name}/signals`). */
export interface Signal {
  id: string;
  name: string;
  value: unknown;
  /** ISO-8601. */
  sentAt: string;
  sentBy: string;
}

/**
 * The workflow's signal inbox. A signal taken by a run that then fails, times out or is
 * cancelled goes back to the inbox for the next run; one taken by a run that succeeds is gone.
 * In a dry run, `take` returns the signal without taking it.
 */
export interface SignalsCapability {
  /** The oldest pending signal (named `name`, if given), or undefined when there is none. */
  take(name?: string): Promise<Signal | undefined>;
}

// ---- ctx.metrics ---------------------------------------------------------------------------

export interface GatewayMetricsOptions {
  /** One route; absent: the whole gateway. */
  route?: string;
  /** The window ending now: '30s', '5m', '1h', or ms. Default '1m'. */
  window?: string | number;
  /** Fewer requests than this is `noData`. Default 10. */
  minSamples?: number;
}

export interface GatewayMetrics {
  gateway: string;
  route?: string;
  windowMs: number;
  requests: number;
  /** Requests per second over the window. */
  rate: number;
  /** Responses with a 5xx status. */
  errors: number;
  /** errors / requests, 0..1; null without requests. */
  errorRate: number | null;
  /** Milliseconds; null without requests. Percentiles are approximate. */
  latency: { avg: number | null; p50: number | null; p95: number | null; p99: number | null };
  samples: number;
  /** Too few samples to judge: a check must neither pass nor fail on these numbers. */
  noData: boolean;
}

export interface PrometheusQueryOptions {
  /** Evaluation time of an instant query: ISO-8601 or epoch ms. Default: now. */
  at?: string | number;
  /** A range query instead: the window ending at `at` (or now) and the resolution, e.g. `{ window: '5m', step: '15s' }`. */
  range?: { window: string | number; step: string | number };
}

export interface PrometheusSeries {
  /** The series' labels (`__name__` included when Prometheus returns it). */
  metric: Record<string, string>;
  /** Its value (instant query) or its last value (range query); null for NaN or ±Inf. */
  value: number | null;
  /** Range queries only: `[epoch seconds, value]` pairs, NaN and ±Inf as null. */
  values?: Array<[number, number | null]>;
}

export interface PrometheusResult {
  /** The first series' value (a scalar's value); null when there is no finite one. */
  value: number | null;
  series: PrometheusSeries[];
  /** Sample points in the answer (one per series for an instant query). */
  samples: number;
  /** An empty answer, or a first value that is NaN or ±Inf: a check must neither pass nor fail on it. */
  noData: boolean;
  /** The query exactly as it was sent to Prometheus. */
  query: string;
}

/** Reading metrics needs no permission. */
export interface MetricsCapability {
  gateway(name: string, options?: GatewayMetricsOptions): Promise<GatewayMetrics>;
  /**
   * A PromQL query against VEER_PROMETHEUS_URL. A query Prometheus rejects is a
   * `PROMETHEUS.QUERY` error with its message; an unreachable server `PROMETHEUS.UNAVAILABLE`.
   */
  prometheus(query: string, options?: PrometheusQueryOptions): Promise<PrometheusResult>;
}

// ---- ctx.http ------------------------------------------------------------------------------

export interface HttpRequestOptions {
  /** Default GET. */
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
  headers?: Record<string, string>;
  /** A string is sent as it is; any other JSON value is sent as JSON (with `content-type: application/json` unless set). */
  body?: unknown;
  /** Default and upper bound: what is left of the run's deadline. */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The body as text (at most VEER_HTTP_MAX_BYTES; larger answers fail the call). */
  text: string;
  /** The URL that answered, after redirects. */
  url: string;
  /** `JSON.parse(text)`, done inside the sandbox. */
  json<T = unknown>(): T;
}

/**
 * Outbound HTTP, only to URLs matching a pattern in `permissions.http` (`*` matches within
 * the URL; `https://hooks.slack.com/services/*`). Redirects are followed only to allowed URLs.
 * Link-local and cloud-metadata addresses are refused unless a pattern names them. Every
 * request is written to the run log (query string left out). In a dry run, only GET and HEAD
 * are sent; other methods are checked, recorded as effects and answered with status 202 and
 * the header `x-veer-dry-run: not sent`.
 */
export interface HttpCapability {
  fetch(url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
}

// ---- ctx.secrets ---------------------------------------------------------------------------

/**
 * Secrets stored with `PUT /api/v1/secrets/{name}`, readable only when named in
 * `permissions.secrets`. Wherever a value read here shows up later — the run's log, result,
 * error, emitted events, notifications — Veer writes `***` instead (also its base64 and JSON
 * forms).
 */
export interface SecretsCapability {
  /** The secret's value; NOT_FOUND when no such secret exists, PermissionError when not granted. */
  get(name: string): Promise<string>;
}

// ---- ctx -----------------------------------------------------------------------------------

/** Every capability the engine puts in `ctx` (each method calls the engine; arguments are copied as JSON). */
export interface Capabilities {
  state: StateCapability;
  gateways: GatewaysCapability;
  deployments: DeploymentsCapability;
  events: EventsCapability;
  metrics: MetricsCapability;
  signals: SignalsCapability;
  http: HttpCapability;
  secrets: SecretsCapability;
}

export type Ctx<Input = unknown> = {
  /** Copies: changing them changes nothing outside the run. */
  readonly input: Input;
  readonly env: Record<string, EnvValue>;
  readonly workflow: { name: string; version: number };
  readonly run: { id: string; attempt: number; trigger: RunTrigger };
  readonly log: ScriptLog;
  /** Waits on a host timer; there is no setTimeout in the sandbox. Bounded by the run's deadline. */
  sleep(ms: number): Promise<void>;
} & Readonly<Capabilities>;

/** The shape of a workflow script's default export; its result is the run's result (JSON). */
export type ScriptMain<Input = unknown, Result = unknown> = (ctx: Ctx<Input>) => Promise<Result> | Result;
