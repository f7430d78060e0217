import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again, keeping the current data on screen meanwhile. */
  reload: () => Promise<void>;
}

/**
 * Loads `load()` when `deps` change, and again every `everyMs` while shown (only where the data
 * itself changes on that period, such as a metrics step). An answer that arrives after newer
 * deps is dropped, so fast filter typing never shows an older result.
 */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[], options: { everyMs?: number } = {}): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loader = useRef(load);
  loader.current = load;
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const value = await loader.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(undefined);
    } catch (err) {
      if (mine === generation.current) setError(err);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, []);
  useEffect(() => {
    void reload();
    if (!options.everyMs) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void reload();
    }, options.everyMs);
    return () => clearInterval(timer);
  }, [...deps, options.everyMs]);
  return { data, error, loading, reload };
}
