import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * One Server-Sent Events subscription for as long as the component shows it: the browser's
 * EventSource (the session cookie goes with it, same origin) with its own reconnects and
 * Last-Event-ID, so a dropped connection resumes where it stopped. `handlers` maps SSE event
 * names (`message`, `log`, `end`) to callbacks; the latest handlers are used without
 * reconnecting. Returns whether the stream is connected.
 */
export function useEventSource(url: string | undefined, handlers: Record<string, (data: unknown) => void>): boolean {
  const ref = useRef(handlers);
  ref.current = handlers;
  const [open, setOpen] = useState(false);
  const names = Object.keys(handlers).sort().join(',');
  useEffect(() => {
    if (!url) return;
    const source = new EventSource(url);
    source.onopen = () => setOpen(true);
    source.onerror = () => setOpen(source.readyState === EventSource.OPEN);
    for (const name of names.split(',').filter(Boolean))
      source.addEventListener(name, (e) => {
        const data = (e as MessageEvent<string>).data;
        let parsed: unknown = data;
        try {
          parsed = JSON.parse(data);
        } catch {
          /* plain text */
        }
        ref.current[name]?.(parsed);
        // A finished stream (a run's log) is not reopened.
        if (name === 'end') source.close();
      });
    return () => {
      source.close();
      setOpen(false);
    };
  }, [url, names]);
  return open;
}
