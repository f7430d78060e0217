import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../../api.ts';
import { useEventSource } from '../../live.ts';
import { eventQuery, mergeNewestFirst, tagList } from './order.ts';
import { isEvent, type VeerEvent } from './types.ts';

/**
 * The latest stored events matching `tag`/`type`, kept current by the event stream: newest
 * first, at most `cap`. The stored page is read on a filter change and again each time the
 * stream (re)opens, so nothing stored in between is missed; ids dedupe what both have.
 * `onEvent` sees each live event.
 */
export function useLiveEvents(options: { tag: string; type: string; first: number; cap: number; onEvent?: (e: VeerEvent) => void }) {
  const { tag, type, first, cap } = options;
  const [events, setEvents] = useState<VeerEvent[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const filterKey = eventQuery(tag, type).toString();
  const open = useEventSource(`/api/v1/events/stream${filterKey ? `?${filterKey}` : ''}`, {
    message: (data) => {
      if (!isEvent(data)) return;
      setEvents((list) => mergeNewestFirst(list, [data], cap));
      options.onEvent?.(data);
    },
  });
  const [opens, setOpens] = useState(0);
  useEffect(() => {
    if (open) setOpens((n) => n + 1);
  }, [open]);
  useEffect(() => setEvents([]), [filterKey]);
  useEffect(() => {
    let gone = false;
    setLoading(true);
    const tags = tagList(tag);
    call(
      api.GET('/api/v1/events', { params: { query: { limit: first, ...(tags.length ? { tag: tags } : {}), ...(type.trim() ? { type: type.trim() } : {}) } } }),
    )
      .then((page) => {
        if (gone) return;
        setEvents((list) => mergeNewestFirst(list, page.events, cap));
        setError(undefined);
      })
      .catch((err: unknown) => {
        if (!gone) setError(err);
      })
      .finally(() => {
        if (!gone) setLoading(false);
      });
    return () => {
      gone = true;
    };
  }, [filterKey, opens]);
  return { events, error, loading, open };
}
