/**
 * PrometheusClient: Prometheus' HTTP query API (`/api/v1/query`, `/api/v1/query_range`) as
 * the engine needs it, answering Prometheus' own `data` untouched. Vendor details (auth,
 * URL, timeouts) live in the adapter.
 *
 * Errors: `PROMETHEUS.UNAVAILABLE` (retryable: connection refused, timeout, 5xx or 503),
 * `PROMETHEUS.QUERY` for a query Prometheus rejects (400/422, `errorType` `bad_data` etc.),
 * carrying Prometheus' `error` message and `errorType` in details.
 */
export type PrometheusSample = [number, string];

export type PrometheusData =
  | { resultType: 'vector'; result: Array<{ metric: Record<string, string>; value: PrometheusSample }> }
  | { resultType: 'matrix'; result: Array<{ metric: Record<string, string>; values: PrometheusSample[] }> }
  | { resultType: 'scalar' | 'string'; result: PrometheusSample };

export interface PrometheusClient {
  /** Where queries go, for messages (credentials left out). */
  readonly target: string;
  /** An instant query evaluated at `atMs` (default: now). */
  query(query: string, options: { atMs?: number; signal?: AbortSignal }): Promise<PrometheusData>;
  /** A range query from `startMs` to `endMs` every `stepMs`. */
  queryRange(query: string, options: { startMs: number; endMs: number; stepMs: number; signal?: AbortSignal }): Promise<PrometheusData>;
}
