import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, call } from '../../api.ts';
import { useEventSource } from '../../live.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { LogLine } from './LogLine.tsx';
import type { LogEntry, Run } from './types.ts';

/** Entries the first request asks for; a full page means the stream fetches the rest. */
const FIRST_PAGE = 10_000;
/** How close to the bottom (px) still counts as "at the bottom", so auto-scroll keeps going. */
const STICKY_PX = 24;

function isEntry(v: unknown): v is LogEntry {
  const e = v as Partial<LogEntry> | null;
  return typeof e === 'object' && e !== null && typeof e.seq === 'number' && typeof e.message === 'string';
}

/** Adds entries by seq: a seq already shown is dropped, whichever way it came (page, stream, a reconnect). */
function merge(list: LogEntry[], more: LogEntry[]): LogEntry[] {
  const last = list.length ? list[list.length - 1]!.seq : 0;
  // The usual case, a line after the last: no duplicate possible, no set of thousands to build.
  if (more.length === 1 && more[0]!.seq > last) return [...list, more[0]!];
  const seen = new Set(list.map((e) => e.seq));
  const fresh = more.filter((e) => !seen.has(e.seq) && seen.add(e.seq));
  if (fresh.length === 0) return list;
  const out = [...list, ...fresh];
  if (fresh.some((e, i) => e.seq < (i === 0 ? last : fresh[i - 1]!.seq))) out.sort((a, b) => a.seq - b.seq);
  return out;
}

/**
 * A run's log: the stored entries, then (while the run goes on, or when the first page was
 * full) the live stream after the last one. `onEnd` gets the final run from the stream's
 * `end` event; `onActivity` is called on live lines (a queued run has started).
 */
export function RunLog(props: { id: string; live: boolean; onEnd: (run: Run) => void; onActivity?: () => void }) {
  const [entries, setEntries] = useState<LogEntry[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [loaded, setLoaded] = useState(false);
  const [streamAfter, setStreamAfter] = useState<number | undefined>(undefined);
  const [ended, setEnded] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    let gone = false;
    call(api.GET('/api/v1/runs/{id}/logs', { params: { path: { id: props.id }, query: { limit: FIRST_PAGE } } }))
      .then((answer) => {
        // Without `follow` the answer is JSON; the schema also lists the stream form.
        const page = answer as { entries: LogEntry[] };
        if (gone) return;
        const list = merge([], page.entries);
        setEntries(list);
        setLoaded(true);
        // The stream URL is fixed from here on: a changing `after` would reconnect per line.
        if (props.live || page.entries.length >= FIRST_PAGE) setStreamAfter(list.length ? list[list.length - 1]!.seq : 0);
      })
      .catch((err: unknown) => {
        if (!gone) setError(err);
      });
    return () => {
      gone = true;
    };
  }, [props.id]);

  const url = streamAfter === undefined ? undefined : `/api/v1/runs/${encodeURIComponent(props.id)}/logs?follow=true&after=${streamAfter}`;
  const open = useEventSource(ended ? undefined : url, {
    log: (data) => {
      if (!isEntry(data)) return;
      setEntries((list) => merge(list, [data]));
      props.onActivity?.();
    },
    end: (data) => {
      setEnded(true);
      if (typeof data === 'object' && data !== null && 'id' in data) props.onEnd(data as Run);
    },
  });

  // Follow the tail unless the reader scrolled up to read; scrolling back down resumes it.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [entries]);

  const state = !url ? undefined : ended ? 'Run ended; log complete.' : open ? 'Live' : 'Connecting…';
  return (
    <section aria-labelledby="run-log-title">
      <div class="log-head">
        <h2 id="run-log-title">Log</h2>
        {state ? <span class={`log-state${open && !ended ? ' log-live' : ''} muted`}>{state}</span> : null}
        <span class="muted">
          {entries.length} {entries.length === 1 ? 'line' : 'lines'}
        </span>
      </div>
      <ErrorNotice error={error} title="Could not load the log" />
      <div
        ref={box}
        class="log"
        role="log"
        aria-label="Log"
        tabIndex={0}
        aria-busy={!loaded}
        onScroll={(e) => {
          const el = e.currentTarget as HTMLDivElement;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight <= STICKY_PX;
        }}
      >
        {loaded && entries.length === 0 ? <p class="muted log-empty">{props.live ? 'No log lines yet.' : 'This run logged nothing.'}</p> : null}
        {entries.map((e) => (
          <LogLine key={e.seq} entry={e} />
        ))}
      </div>
    </section>
  );
}
