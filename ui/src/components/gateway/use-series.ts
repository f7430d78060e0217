import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call } from '../../api.ts';
import type { SeriesView } from './model.ts';

/**
 * A gateway's metrics series over `window`, fetched again when the open bucket closes (the
 * answer's `nextAt`), so the charts move once per step and never poll faster than the data.
 */
export function useSeries(name: string, window: string): { data: SeriesView | undefined; error: unknown } {
  const [data, setData] = useState<SeriesView | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    let stopped = false;
    setData(undefined);
    const load = async () => {
      let delay = 10_000;
      try {
        const s = await call(api.GET('/api/v1/gateways/{name}/metrics/series', { params: { path: { name }, query: { window } } }));
        if (stopped) return;
        setData(s);
        setError(undefined);
        // A little after the bucket closes, so the closed bucket is in the answer.
        delay = Math.max(1000, s.nextAt - Date.now() + 250);
      } catch (err) {
        if (stopped) return;
        setError(err);
      }
      if (!stopped) timer.current = setTimeout(() => void load(), delay);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer.current);
    };
  }, [name, window]);
  return { data, error };
}
