import { api, call } from '../../api.ts';
import { Link } from '../../router.tsx';
import { useAsync } from '../../use-async.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { Status } from '../Status.tsx';
import { Time } from '../Time.tsx';

/** Why runs did or did not start: each trigger's outcome, newest first. */
export function TriggersSection(props: { name: string }) {
  const history = useAsync(
    async () => (await call(api.GET('/api/v1/workflows/{name}/triggers', { params: { path: { name: props.name }, query: { limit: 50 } } }))).entries,
    [props.name],
  );
  const entries = history.data ?? [];
  return (
    <section>
      <h2 id="wf-triggers">Triggers</h2>
      <ErrorNotice error={history.error} title="Could not read the trigger history" />
      {history.data && entries.length === 0 ? <p class="muted">No trigger has fired yet.</p> : null}
      {entries.length ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Trigger history">
          <table>
            <caption class="visually-hidden">Trigger history, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Trigger</th>
                <th scope="col">Outcome</th>
                <th scope="col">Reason</th>
                <th scope="col">Run</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e, i) => (
                <tr key={`${e.at}-${i}`}>
                  <td>
                    <Time value={e.at} />
                  </td>
                  <td>{e.trigger}</td>
                  <td>
                    <Status value={e.outcome} />
                  </td>
                  <td>
                    {e.reason ?? ''}
                    {e.count ? ` (${e.count} ticks)` : ''}
                  </td>
                  <td>{e.runId ? <Link href={`/runs/${encodeURIComponent(e.runId)}`}>{e.runId}</Link> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <div class="actions">
        <button type="button" onClick={() => void history.reload()}>
          Refresh
        </button>
      </div>
    </section>
  );
}
