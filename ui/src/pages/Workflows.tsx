import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../api.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { Status } from '../components/Status.tsx';
import { Time } from '../components/Time.tsx';
import { triggerText } from '../components/workflow/trigger-text.ts';
import type { WorkflowSummaryPage } from '../components/workflow/types.ts';
import { Link, setQuery, useLocation } from '../router.tsx';
import { can, useMe } from '../session.ts';
import { useAsync } from '../use-async.ts';

const PAGE = 50;
/** Typing pauses this long before the list is asked again. */
const DEBOUNCE_MS = 300;

// The form carries the script editor (CodeMirror): loaded when first opened, not with the list.
const loadForm = () => import('../components/workflow/NewWorkflowForm.tsx').then((m) => m.NewWorkflowForm);
type Form = ComponentType<{ onCancel: () => void }>;

/** Searches as you type, after a pause; the text lives in the query string (`q`) and a new search starts at the first page. */
function SearchBox(props: { value: string }) {
  const [text, setText] = useState(props.value);
  // Back/forward changes `q` under the box: show what is searched.
  useEffect(() => {
    if (props.value !== text.trim()) setText(props.value);
  }, [props.value]);
  useEffect(() => {
    if (text.trim() === props.value) return;
    const timer = setTimeout(() => {
      setQuery('offset', undefined);
      setQuery('q', text.trim() || undefined);
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);
  return (
    <div class="filters" role="search">
      <div class="field">
        <label for="workflow-search">Search</label>
        <input id="workflow-search" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder="part of a name" />
      </div>
    </div>
  );
}

function NewWorkflow() {
  const [Form, setForm] = useState<Form | undefined>(undefined);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const show = () => {
    setOpen(true);
    if (!Form) loadForm().then((f) => setForm(() => f), setError);
  };
  if (!open)
    return (
      <button type="button" class="primary" onClick={show}>
        New workflow
      </button>
    );
  if (error) return <ErrorNotice error={error} title="Could not load the editor" />;
  return Form ? <Form onCancel={() => setOpen(false)} /> : <p aria-busy="true">Loading the editor…</p>;
}

export function Workflows() {
  const me = useMe();
  const { query } = useLocation();
  const q = query.get('q') ?? '';
  const offset = Math.max(0, Number(query.get('offset')) || 0);
  const list = useAsync(async () => {
    const res = await call(api.GET('/api/v1/workflows', { params: { query: { view: 'summary', limit: PAGE, offset, ...(q ? { q } : {}) } } }));
    // view=summary answers the WorkflowSummaryPage member of the documented union; the pager counts from the page shown.
    return { ...(res as WorkflowSummaryPage), offset };
  }, [q, offset]);
  const rows = list.data?.workflows ?? [];
  const total = list.data?.total ?? 0;
  const shownAt = list.data?.offset ?? offset;
  const go = (to: number) => setQuery('offset', to > 0 ? String(to) : undefined);

  return (
    <>
      <PageHeader title="Workflows" />
      {can(me, 'write') ? <NewWorkflow /> : null}
      <SearchBox value={q} />
      <ErrorNotice error={list.error} title="Could not list the workflows" />
      {list.data && rows.length === 0 ? <p class="muted">{q ? `No workflow name contains “${q}”.` : 'No workflows yet.'}</p> : null}
      {rows.length > 0 ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Workflows table">
          <table class="workflows-table" aria-busy={list.loading}>
            <caption class="visually-hidden">Workflows</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Trigger</th>
                <th scope="col">State</th>
                <th scope="col">Last run</th>
                <th scope="col">Next tick</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((w) => (
                <tr key={w.name}>
                  <td>
                    <Link href={`/workflows/${encodeURIComponent(w.name)}`}>{w.name}</Link>
                    <span class="muted"> v{w.version}</span>
                  </td>
                  <td class="mono">{triggerText(w.trigger)}</td>
                  <td>
                    <Status value={w.paused ? 'paused' : w.enabled ? 'enabled' : 'disabled'} />
                  </td>
                  <td>
                    {w.lastRun ? (
                      <Link href={`/runs/${encodeURIComponent(w.lastRun.id)}`}>
                        <Status value={w.lastRun.status} /> <Time value={w.lastRun.createdAt} />
                        <span class="visually-hidden"> (run {w.lastRun.id})</span>
                      </Link>
                    ) : (
                      <span class="muted">never</span>
                    )}
                  </td>
                  <td>
                    <Time value={w.nextTick} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {total > 0 ? (
        <nav class="pager" aria-label="Pages">
          <button type="button" onClick={() => go(shownAt - PAGE)} disabled={shownAt === 0}>
            Previous
          </button>
          <span aria-live="polite">
            {Math.min(shownAt + 1, total)}–{Math.min(shownAt + rows.length, total)} of {total}
          </span>
          <button type="button" onClick={() => go(shownAt + PAGE)} disabled={shownAt + PAGE >= total}>
            Next
          </button>
        </nav>
      ) : null}
    </>
  );
}
