import { useMemo } from 'preact/hooks';
import { Chart, type ChartSeries } from '../Chart.tsx';
import type { PointView } from './model.ts';

/** A route's three charts over the window, saying "no traffic" when no bucket had a request. */
export function RouteCharts(props: { route: string; points: PointView[] }) {
  const { points } = props;
  // New arrays only with new points: the page re-renders on every agent-status poll.
  const charts = useMemo(() => {
    // The open bucket is drawn when it closes: its log lines are still arriving, so any value for
    // it now (an rps over a fraction of its traffic) would show as a drop at the right edge.
    const unknown = (p: PointView) => p.partial === true;
    const series = (label: string, color: string, value: (p: PointView) => number | null): ChartSeries => ({
      label,
      color,
      values: points.map((p) => (unknown(p) ? null : value(p))),
    });
    return {
      times: points.map((p) => p.t),
      rps: [series('req/s', '#2563eb', (p) => (p.noData ? 0 : p.rps))],
      errors: [series('5xx', '#dc2626', (p) => (p.errorRate === null ? null : p.errorRate * 100))],
      latency: [series('p50', '#16a34a', (p) => p.p50Ms ?? null), series('p99', '#9333ea', (p) => p.p99Ms ?? null)],
    };
  }, [points]);
  const quiet = points.length > 0 && points.every((p) => p.noData);
  return (
    <section class="panel route-charts" aria-label={`Metrics of route ${props.route}`}>
      <h3>{props.route}</h3>
      {quiet ? <p class="muted">no traffic in this window</p> : null}
      <div class="chart-row">
        <Chart label="Requests per second" times={charts.times} series={charts.rps} />
        <Chart label="Error rate" unit="%" times={charts.times} series={charts.errors} />
        <Chart label="Latency p50/p99" unit=" ms" times={charts.times} series={charts.latency} />
      </div>
    </section>
  );
}
