import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  color: string;
}

/**
 * A line chart (uPlot: 50 kB, canvas, made for live time series). `times` are epoch ms. The
 * canvas is described for screen readers by `label` and each series' latest value.
 */
export function Chart(props: { label: string; times: number[]; series: ChartSeries[]; unit?: string; height?: number }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join('|');
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: props.height ?? 160,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      axes: [{ stroke: 'currentColor' }, { stroke: 'currentColor', size: 72, values: (_u, vals) => vals.map((v) => `${+v.toFixed(3)}${props.unit ?? ''}`) }],
      series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: false }))],
    };
    const u = new uPlot(opts, [[], ...props.series.map(() => [])] as unknown as uPlot.AlignedData, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(240, el.clientWidth), height: props.height ?? 160 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape, props.unit, props.height]);
  useEffect(() => {
    plot.current?.setData([props.times.map((t) => t / 1000), ...props.series.map((s) => s.values)] as unknown as uPlot.AlignedData);
  }, [props.times, props.series]);
  const latest = props.series.map((s) => {
    const v = [...s.values].reverse().find((x) => x !== null && x !== undefined);
    return `${s.label} ${v === undefined || v === null ? 'no data' : `${+v.toFixed(3)}${props.unit ?? ''}`}`;
  });
  return (
    <figure class="chart">
      <figcaption>{props.label}</figcaption>
      <div ref={host} role="img" aria-label={`${props.label}: ${latest.join(', ')}`} />
    </figure>
  );
}
