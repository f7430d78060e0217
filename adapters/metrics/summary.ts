import { DEFAULT_MIN_SAMPLES, type GatewayMetrics, type MetricsQuery } from '../../engine/ports/metrics-store.ts';

/** Both stores end here, so they round and report `noData` the same way. */
export function summarize(
  gateway: string,
  q: MetricsQuery,
  totals: { requests: number; errors: number; durationSum: number; p50: number | null; p95: number | null; p99: number | null },
): GatewayMetrics {
  const { requests, errors } = totals;
  const round = (v: number | null) => (v === null || !Number.isFinite(v) ? null : Math.round(v * 100) / 100);
  return {
    gateway,
    ...(q.route !== undefined ? { route: q.route } : {}),
    windowMs: q.windowMs,
    requests,
    rate: requests / (q.windowMs / 1000),
    errors,
    errorRate: requests > 0 ? errors / requests : null,
    latency:
      requests > 0
        ? { avg: round(totals.durationSum / requests), p50: round(totals.p50), p95: round(totals.p95), p99: round(totals.p99) }
        : { avg: null, p50: null, p95: null, p99: null },
    samples: requests,
    noData: requests < (q.minSamples ?? DEFAULT_MIN_SAMPLES),
  };
}
