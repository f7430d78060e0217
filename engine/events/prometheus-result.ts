import type { PrometheusData, PrometheusSample } from '../ports/prometheus.ts';
import type { PrometheusResult, PrometheusSeries } from '../../workflows/types.ts';
import { ValidationError } from '../shared/errors.ts';
import { parseDuration } from './duration.ts';

/**
 * What ctx.metrics.prometheus hands a script is bounded, whatever the query selects: at most
 * `series` series (in Prometheus' order) and, in a range answer, the last `samplesPerSeries`
 * points of each (the newest, which carry the value a check reads). `pointsPerSeries` is
 * Prometheus' own resolution limit, refused before the query is sent so the script is told
 * which option to change. `samples` still counts the whole answer.
 */
export const PROMETHEUS_LIMITS = { series: 100, samplesPerSeries: 1100, pointsPerSeries: 11_000 } as const;

export type PrometheusRequest = { kind: 'instant'; atMs?: number } | { kind: 'range'; startMs: number; endMs: number; stepMs: number };

/** The script's options as the query to send: an instant query at `at` (else Prometheus' now), or a range ending there. */
export function prometheusRequest(options: unknown, now = Date.now()): PrometheusRequest {
  const o = (options ?? {}) as { at?: unknown; range?: unknown };
  const atMs = instant(o.at ?? undefined);
  const range = (o.range ?? undefined) as { window?: unknown; step?: unknown } | undefined;
  if (range === undefined) return { kind: 'instant', atMs };
  const windowMs = positive(parseDuration(range.window, 'options.range.window'), 'options.range.window');
  const stepMs = positive(parseDuration(range.step, 'options.range.step'), 'options.range.step');
  const points = windowMs / stepMs;
  if (points > PROMETHEUS_LIMITS.pointsPerSeries) {
    const message = `ctx.metrics.prometheus: options.range.step: a ${windowMs / 1000}s window every ${stepMs / 1000}s is ${Math.floor(points) + 1} points, and Prometheus answers at most ${PROMETHEUS_LIMITS.pointsPerSeries} per series; use a longer step`;
    throw new ValidationError(message, [{ path: 'options.range.step', message: `at most ${PROMETHEUS_LIMITS.pointsPerSeries} points per window` }]);
  }
  const endMs = atMs ?? now;
  return { kind: 'range', startMs: endMs - windowMs, endMs, stepMs };
}

/** Prometheus' answer as the script contract's PrometheusResult; an empty or non-finite answer is noData, never an error. */
export function prometheusResult(query: string, data: PrometheusData): PrometheusResult {
  let series: PrometheusSeries[];
  let samples: number;
  if (data.resultType === 'vector') {
    samples = data.result.length;
    series = data.result.slice(0, PROMETHEUS_LIMITS.series).map((s) => ({ metric: s.metric, value: sampleValue(s.value) }));
  } else if (data.resultType === 'matrix') {
    samples = data.result.reduce((n, s) => n + s.values.length, 0);
    series = data.result.slice(0, PROMETHEUS_LIMITS.series).map((s) => {
      const values = s.values.slice(-PROMETHEUS_LIMITS.samplesPerSeries).map(([t, v]): [number, number | null] => [t, finite(v)]);
      return { metric: s.metric, value: values.length ? values[values.length - 1][1] : null, values };
    });
  } else {
    // A scalar (or a string literal, which is no number and so no data).
    samples = 1;
    series = [{ metric: {}, value: sampleValue(data.result) }];
  }
  const value = series.length ? series[0].value : null;
  return { value, series, samples, noData: value === null, query };
}

const sampleValue = (s: PrometheusSample | undefined): number | null => (Array.isArray(s) ? finite(s[1]) : null);

/** Prometheus sends values as strings: "12.5", "NaN", "+Inf", "-Inf". */
function finite(v: unknown): number | null {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

function instant(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const ms = typeof v === 'number' ? v : Date.parse(String(v));
  if (!Number.isFinite(ms))
    throw new ValidationError('ctx.metrics.prometheus: options.at must be ISO-8601 or epoch ms', [
      { path: 'options.at', message: 'must be ISO-8601 or epoch ms' },
    ]);
  return ms;
}

function positive(ms: number, path: string): number {
  if (ms > 0) return ms;
  throw new ValidationError(`ctx.metrics.prometheus: ${path} must be longer than 0`, [{ path, message: 'must be longer than 0' }]);
}
