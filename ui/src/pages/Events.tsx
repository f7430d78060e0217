import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { EventFilters } from '../components/events/EventFilters.tsx';
import { EventsTable } from '../components/events/EventsTable.tsx';
import { useLiveEvents } from '../components/events/useLiveEvents.ts';
import { PageHeader } from '../components/Layout.tsx';
import { useLocation } from '../router.tsx';

/** Events kept in memory: the page shows a live window, the API keeps the history. */
const CAP = 500;
const FIRST_PAGE = 50;

/** Live events, newest on top: the latest stored page, then the stream (both with the filters of the query string). */
export function Events() {
  const { query } = useLocation();
  const tag = query.get('tag') ?? '';
  const type = query.get('type') ?? '';
  const { events, error, loading, open } = useLiveEvents({ tag, type, first: FIRST_PAGE, cap: CAP });
  return (
    <>
      <PageHeader title="Events">
        <span role="status" class={`live-state${open ? ' live-on' : ''}`}>
          {open ? 'Live' : 'Connecting…'}
        </span>
      </PageHeader>
      <EventFilters tag={tag} type={type} />
      <ErrorNotice error={error} title="Could not load events" />
      <p class="hint">
        Newest first; the latest {CAP} are kept here. {events.length} shown.
      </p>
      <div aria-busy={loading}>
        <EventsTable events={events} caption="Events, newest first" captionHidden empty={loading ? 'Loading…' : 'No matching events yet.'} />
      </div>
    </>
  );
}
