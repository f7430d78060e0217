import type { LogEntry } from './types.ts';

/** HH:MM:SS.mmm in local time: a log reads by the second, the date is in the tooltip. */
function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** One log line: seq, time, level (as a word, coloured too), message and its fields as compact JSON. */
export function LogLine(props: { entry: LogEntry }) {
  const e = props.entry;
  const fields = e.fields && Object.keys(e.fields).length > 0 ? JSON.stringify(e.fields) : '';
  return (
    <div class="log-line" data-seq={e.seq}>
      <span class="log-seq muted">{e.seq}</span>
      <time class="log-time" dateTime={e.time} title={new Date(e.time).toLocaleString()}>
        {clock(e.time)}
      </time>
      <span class={`log-level level-${e.level.replace(/[^a-z-]/gi, '')}`}>{e.level}</span>
      <span class="log-message">
        {e.message}
        {fields ? <code class="log-fields"> {fields}</code> : null}
        {e.attempt !== undefined && e.attempt > 1 ? <span class="muted"> (attempt {e.attempt})</span> : null}
      </span>
    </div>
  );
}
