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
  close(): Promise<void>;
}

export const DEFAULT_MIN_SAMPLES = 10;
