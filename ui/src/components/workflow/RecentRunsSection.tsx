import { api, call } from '../../api.ts';
import { Link } from '../../router.tsx';
import { useAsync } from '../../use-async.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { Status } from '../Status.tsx';
import { duration, Time } from '../Time.tsx';

/** The newest few runs, and the way to all of them on the runs page. */
export function RecentRunsSection(props: { name: string }) {
  const runs = useAsync(
    async () => (await call(api.GET('/api/v1/workflows/{name}/runs', { params: { path: { name: props.name }, query: { limit: 5, offset: 0 } } }))).runs,
    [props.name],
  );
  return (
    <section>
      <h2 id="wf-recent">Recent runs</h2>
      <ErrorNotice error={runs.error} title="Could not list the runs" />
      {runs.data && runs.data.length === 0 ? <p class="muted">No runs yet.</p> : null}
      {runs.data && runs.data.length > 0 ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Recent runs">
          <table>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col">Queued</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link href={`/runs/${encodeURIComponent(r.id)}`}>{r.id}</Link>
                    {r.dryRun ? <span class="muted"> (dry run)</span> : null}
                  </td>
                  <td>
                    <Status value={r.status} />
                  </td>
                  <td>{r.trigger.type}</td>
                  <td>
                    <Time value={r.queuedAt} />
                  </td>
                  <td>{duration(r.durationMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <p>
        <Link href={`/runs?workflow=${encodeURIComponent(props.name)}`}>All runs of {props.name}</Link>
      </p>
    </section>
  );
}
