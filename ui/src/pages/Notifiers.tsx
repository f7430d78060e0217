import { Labels } from '../components/Labels.tsx';
import { api, call } from '../api.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { Time } from '../components/Time.tsx';
import { useAsync } from '../use-async.ts';

/** Where a notifier delivers, without path or query: those may carry a webhook token. */
function origin(url: string): string {
  try {
    return new URL(url.replace(/\{\{secret:[^}]*\}\}/g, 'x')).origin;
  } catch {
    return '(not a URL)';
  }
}

/** Notifiers: names and what they match, never their secrets (or the URL's path, which may hold a token). */
export function Notifiers() {
  const list = useAsync(() => call(api.GET('/api/v1/notifiers')), []);
  const notifiers = list.data?.notifiers ?? [];
  return (
    <>
      <PageHeader title="Notifiers" />
      <ErrorNotice error={list.error} title="Could not load notifiers" />
      {list.loading && !list.data ? <p aria-busy="true">Loading…</p> : null}
      {list.data && notifiers.length === 0 ? <p class="muted">No notifiers. Define one with PUT /api/v1/notifiers/&lt;name&gt;.</p> : null}
      {notifiers.length > 0 ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Notifiers table">
          <table class="named-rows">
            <caption class="visually-hidden">Notifiers</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Delivers to</th>
                <th scope="col">Format</th>
                <th scope="col">Tags</th>
                <th scope="col">Types</th>
                <th scope="col">Signed</th>
                <th scope="col">Labels</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {notifiers.map((n) => (
                <tr key={n.name}>
                  <th scope="row">{n.name}</th>
                  <td>
                    <code>{origin(n.url)}</code>
                  </td>
                  <td>{n.format}</td>
                  <td>{n.events.tags.length ? n.events.tags.join(', ') : <span class="muted">any</span>}</td>
                  <td>{n.events.types?.length ? n.events.types.join(', ') : <span class="muted">any</span>}</td>
                  <td>{n.hasSecret ? 'yes' : 'no'}</td>
                  <td>
                    <Labels labels={n.labels} />
                  </td>
                  <td>
                    <Time value={n.updatedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
