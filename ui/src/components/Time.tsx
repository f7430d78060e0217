import { useEffect, useState } from 'preact/hooks';

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const STEPS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Infinity],
];

export function relative(iso: string, now = Date.now()): string {
  let v = (Date.parse(iso) - now) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(v) < size) return rtf.format(Math.round(v), unit);
    v /= size;
  }
  return iso;
}

/**
 * One clock for every <Time> on the page: a page left open keeps "3 minutes ago" true without
 * a timer per cell. Ticks every 10 s (the finest unit shown is seconds, rounded) and only while
 * something shows a time.
 */
const TICK_MS = 10_000;
const listeners = new Set<(now: number) => void>();
let ticker: ReturnType<typeof setInterval> | undefined;

function useNow(): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    listeners.add(setNow);
    ticker ??= setInterval(() => {
      const t = Date.now();
      for (const l of listeners) l(t);
    }, TICK_MS);
    return () => {
      listeners.delete(setNow);
      if (listeners.size === 0 && ticker !== undefined) {
        clearInterval(ticker);
        ticker = undefined;
      }
    };
  }, []);
  return now;
}

/** A time as "3 minutes ago", with the exact time in a tooltip and for screen readers; kept current. */
export function Time(props: { value: string | undefined | null }) {
  const now = useNow();
  if (!props.value) return <span class="muted">—</span>;
  return (
    <time dateTime={props.value} title={new Date(props.value).toLocaleString()}>
      {relative(props.value, now)}
    </time>
  );
}

export function duration(ms: number | undefined): string {
  if (ms === undefined) return '—';
  // A run that just started can be a few ms "in the future" by this browser's clock.
  ms = Math.max(0, ms);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
