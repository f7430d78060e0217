import { ValidationError } from '../shared/errors.ts';

/**
 * GatewayMetricsStore: request samples from the gateway agent (HAProxy log lines) in,
 * per-gateway and per-route numbers out — what a canary script decides on. Two
 * implementations compute the same numbers: Redis (embedded, per-second histograms) and
 * Elasticsearch (raw samples, aggregations).
 */
export interface GatewayRequestSample {
  /** When the request was accepted, epoch ms. */
  time: number;
  gateway: string;
  /** Route name within the gateway ('' when unknown). */
  route: string;
  /** Backend server that answered ('' when none). */
  server: string;
  /** HTTP status; 0 or negative when the request never got one (aborted, TCP). */
  status: number;
  /** Total time in ms (HAProxy `Tt`). */
  durationMs: number;
  bytes: number;
}

export interface MetricsQuery {
  /** One route; absent = the whole gateway (all routes). */
  route?: string;
  /** The window ending now, in ms. */
  windowMs: number;
  /** Fewer requests than this in the window is `noData` (neither pass nor fail). Default 10. */
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
  /** Milliseconds; null without requests. Percentiles are approximate (see the implementation). */
  latency: { avg: number | null; p50: number | null; p95: number | null; p99: number | null };
  /** Samples the numbers were computed from. */
  samples: number;
  /** Too few samples to judge: a check must neither pass nor fail on these numbers. */
  noData: boolean;
}

export interface RecordResult {
  accepted: number;
  rejected: number;
}

export interface GatewayMetricsStore {
  readonly kind: string;
  /** Stores samples (any order, any gateways). Throws `METRICS.UNAVAILABLE` when the store is down. */
  record(samples: GatewayRequestSample[]): Promise<RecordResult>;
  query(gateway: string, query: MetricsQuery): Promise<GatewayMetrics>;
  /**
   * Per-step points over the window, for charts. Throws `METRICS.INVALID` / `VALIDATION` like
   * `query`. Optional so test fakes of the port need not implement it; both stores do.
   */
  series?(gateway: string, query: MetricsSeriesQuery): Promise<GatewayMetricsSeries>;
  close(): Promise<void>;
}

export const DEFAULT_MIN_SAMPLES = 10;

export interface MetricsSeriesQuery {
  /** The window ending now, in ms (≥ 1 s, ≤ the store's retention). */
  windowMs: number;
  /** Bucket width in ms, rounded to whole seconds; absent: the smallest whole second giving ≤ 120 points. */
  stepMs?: number;
  /** Routes to return a series for, all in one call (a chart of routes side by side). Default none. */
  routes?: string[];
  /** Also the whole gateway's series. Default true. */
  total?: boolean;
}

/** One bucket of a series; a bucket without requests is a zero point (noData), so the x axis is continuous. */
export interface MetricsPoint {
  /** Bucket start, epoch ms (buckets are aligned to multiples of the step since the epoch). */
  t: number;
  requests: number;
  errors: number;
  /** null without requests. */
  errorRate: number | null;
  /** Absent without requests; same histogram (Redis) or percentiles aggregation (ES) as `query`. */
  p50Ms?: number;
  p99Ms?: number;
  /** Requests per second over the bucket (over its elapsed part for the bucket still open). */
  rps: number;
  noData: boolean;
  /** The bucket still open: its numbers grow until `nextAt`. */
  partial?: true;
}

export interface GatewayMetricsSeries {
  gateway: string;
  windowMs: number;
  stepMs: number;
  /** First bucket's start, epoch ms. */
  from: number;
  /** When the open bucket closes (epoch ms): poll then, once per step. */
  nextAt: number;
  total?: MetricsPoint[];
  routes: Array<{ route: string; points: MetricsPoint[] }>;
}

export const SERIES_DEFAULT_POINTS = 120;
export const SERIES_MAX_POINTS = 1000;

/**
 * The step of a series in ms (whole seconds), or a ValidationError naming `step`: both stores
 * and the API check the same way.
 */
export function resolveSeriesStep(windowMs: number, stepMs?: number): number {
  const bad = (message: string): never => {
    throw new ValidationError(`step: ${message}`, [{ path: 'step', message }]);
  };
  if (stepMs === undefined) return Math.max(1, Math.ceil(windowMs / SERIES_DEFAULT_POINTS / 1000)) * 1000;
  if (!(stepMs >= 1000)) bad('must be at least 1s');
  const step = Math.round(stepMs / 1000) * 1000;
  if (step > windowMs) bad('must not be longer than the window');
  if (Math.ceil(windowMs / step) > SERIES_MAX_POINTS) bad(`gives more than ${SERIES_MAX_POINTS} points; use a longer step`);
  return step;
}
