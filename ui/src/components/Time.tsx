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

/** A time as "3 minutes ago", with the exact time in a tooltip and for screen readers. */
export function Time(props: { value: string | undefined | null }) {
  if (!props.value) return <span class="muted">—</span>;
  return (
    <time dateTime={props.value} title={new Date(props.value).toLocaleString()}>
      {relative(props.value)}
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
