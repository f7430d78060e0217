import { DEFAULT_MIN_SAMPLES, type GatewayMetrics, type MetricsPoint, type MetricsQuery } from '../../engine/ports/metrics-store.ts';

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

/** One series point from a bucket's totals; `seconds` is how much of the bucket has elapsed. */
export function seriesPoint(
  t: number,
  seconds: number,
  partial: boolean,
  b: { requests: number; errors: number; p50: number | null; p99: number | null },
): MetricsPoint {
  const round = (v: number | null) => (v === null || !Number.isFinite(v) ? undefined : Math.round(v * 100) / 100);
  const p50Ms = b.requests > 0 ? round(b.p50) : undefined;
  const p99Ms = b.requests > 0 ? round(b.p99) : undefined;
  return {
    t,
    requests: b.requests,
    errors: b.errors,
    errorRate: b.requests > 0 ? b.errors / b.requests : null,
    ...(p50Ms !== undefined ? { p50Ms } : {}),
    ...(p99Ms !== undefined ? { p99Ms } : {}),
    rps: b.requests / Math.max(1, seconds),
    noData: b.requests === 0,
    ...(partial ? { partial: true as const } : {}),
  };
}

/** Bucket starts (whole seconds, aligned to the step) covering the window ending at `end` ms; the last one is open. */
export function seriesBuckets(end: number, windowMs: number, stepMs: number): { starts: number[]; stepS: number; nowS: number } {
  const stepS = stepMs / 1000;
  const nowS = Math.floor(end / 1000);
  const last = Math.floor(nowS / stepS) * stepS;
  const n = Math.ceil(windowMs / stepMs);
  return { starts: Array.from({ length: n }, (_, i) => last - (n - 1 - i) * stepS), stepS, nowS };
}
