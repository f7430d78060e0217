import { api, call } from '../api.ts';
import { useAsync } from '../use-async.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { RunFilters } from '../components/runs/RunFilters.tsx';
import { RunsTable } from '../components/runs/RunsTable.tsx';
import { setQuery, useLocation } from '../router.tsx';

const PAGE = 50;

/** Every workflow's runs, newest first, filtered and paged by the API (`next` cursors). */
export function Runs() {
  const { query } = useLocation();
  const status = query.get('status') ?? '';
  const workflow = query.get('workflow') ?? '';
  const before = query.get('before') ?? '';
  const page = useAsync(
    () =>
      call(
        api.GET('/api/v1/runs', {
          params: { query: { limit: PAGE, ...(before ? { before } : {}), ...(status ? { status } : {}), ...(workflow ? { workflow } : {}) } },
        }),
      ),
    [status, workflow, before],
  );
  const data = page.data;
  return (
    <>
      <PageHeader title="Runs">
        <button type="button" onClick={() => void page.reload()} disabled={page.loading}>
          Refresh
        </button>
      </PageHeader>
      <RunFilters status={status} workflow={workflow} />
      <ErrorNotice error={page.error} title="Could not load runs" />
      <div aria-busy={page.loading}>
        {data ? (
          <RunsTable
            runs={data.runs}
            caption={before ? 'Runs (older page)' : 'Runs, newest first'}
            captionHidden
            empty={data.next ? 'No matching runs on this page; older runs may match.' : 'No matching runs.'}
          />
        ) : page.loading ? (
          <p aria-busy="true">Loading…</p>
        ) : null}
      </div>
      <nav class="actions pager" aria-label="Pages">
        {before ? (
          <button type="button" onClick={() => setQuery('before', undefined)}>
            Newest
          </button>
        ) : null}
        {data?.next ? (
          <button type="button" onClick={() => setQuery('before', data.next)}>
            Older
          </button>
        ) : null}
      </nav>
    </>
  );
}
