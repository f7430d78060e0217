import type { GatewayMetricsStore } from '../ports/metrics-store.ts';
import type { PrometheusClient } from '../ports/prometheus.ts';
import type { MetricsCapability } from '../../workflows/types.ts';
import type { HostCapability } from '../sandbox/capabilities.ts';
import { ValidationError, VeerError } from '../shared/errors.ts';
import { parseDuration } from './duration.ts';
import { prometheusRequest, prometheusResult } from './prometheus-result.ts';

/**
 * `ctx.metrics.gateway(name, { route?, window: '1m', minSamples? })` → GatewayMetrics.
 * Reading metrics needs no permission (it changes nothing). A script must check
 * `noData` before comparing numbers: with too little traffic they are null or noise.
 *
 * `ctx.metrics.prometheus(query, { at?, range? })` → PrometheusResult, from the user's own
 * Prometheus (VEER_PROMETHEUS_URL) when one is configured; the same rule about `noData` holds.
 */
export function createMetricsCapability(metrics: GatewayMetricsStore, prometheus?: PrometheusClient): HostCapability<MetricsCapability> {
  return {
    gateway: async (scope, name, opts) => {
      if (typeof name !== 'string' || !name)
        throw new ValidationError('ctx.metrics.gateway(name): name must be a gateway name', [{ path: 'name', message: 'required' }]);
      const o = (opts ?? {}) as { route?: unknown; window?: unknown; minSamples?: unknown };
      // null is "not given": a script's NaN or undefined, after JSON.
      const route = o.route ?? undefined;
      if (route !== undefined && typeof route !== 'string')
        throw new ValidationError('ctx.metrics.gateway: route must be a string', [{ path: 'route', message: 'must be a string' }]);
      const minSamples = o.minSamples === undefined || o.minSamples === null ? undefined : Number(o.minSamples);
      if (minSamples !== undefined && !(Number.isInteger(minSamples) && minSamples >= 0)) {
        throw new ValidationError('ctx.metrics.gateway: minSamples must be a whole number ≥ 0', [
          { path: 'minSamples', message: 'must be a whole number ≥ 0' },
        ]);
      }
      const windowMs = parseDuration(o.window ?? '1m', 'window');
      // Each second of window is a read of the metrics store: a run may not ask for more than its budget allows.
      scope.budget?.ceiling('metricsWindowMs', windowMs);
      const m = await metrics.query(name, { route, windowMs, minSamples });
      if (m.noData) scope.log('debug', `metrics for ${name}${route ? `/${route}` : ''}: no data (${m.samples} samples in ${windowMs / 1000}s)`);
      return m;
    },
    prometheus: async (scope, query, opts) => {
      if (typeof query !== 'string' || !query.trim())
        throw new ValidationError('ctx.metrics.prometheus(query): query must be a PromQL expression', [{ path: 'query', message: 'required' }]);
      if (!prometheus) {
        throw new VeerError(
          'PROMETHEUS.NOT_CONFIGURED',
          'ctx.metrics.prometheus needs a Prometheus to query: set VEER_PROMETHEUS_URL (and VEER_PROMETHEUS_TOKEN or VEER_PROMETHEUS_USERNAME/PASSWORD if it needs auth)',
        );
      }
      const req = prometheusRequest(opts);
      const data =
        req.kind === 'range'
          ? await prometheus.queryRange(query, { ...req, signal: scope.signal })
          : await prometheus.query(query, { atMs: req.atMs, signal: scope.signal });
      const r = prometheusResult(query, data);
      if (r.noData) scope.log('debug', `prometheus ${query}: no data (${r.samples} samples from ${prometheus.target})`);
      return r;
    },
  };
}
