import { api, call } from '../api.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { AgentsSummary } from '../components/gateway/AgentsSummary.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { Time } from '../components/Time.tsx';
import { Link } from '../router.tsx';
import { useAsync } from '../use-async.ts';
import { ScrollTable } from '../components/ScrollTable.tsx';

/** Every gateway with its port, routes and revision, and whether the agents serve that revision. */
export function Gateways() {
  const list = useAsync(() => call(api.GET('/api/v1/gateways')), []);
  const gateways = list.data?.gateways;
  return (
    <>
      <PageHeader title="Gateways">
        <button type="button" onClick={() => void list.reload()} disabled={list.loading}>
          Refresh
        </button>
      </PageHeader>
      <ErrorNotice error={list.error} title="Could not load gateways" />
      {gateways ? (
        gateways.length === 0 ? (
          <p class="muted">No gateways yet.</p>
        ) : (
          <ScrollTable label="Gateways table">
            <table>
              <caption class="visually-hidden">Gateways</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Port</th>
                  <th scope="col">Routes</th>
                  <th scope="col">Revision</th>
                  <th scope="col">Agents</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {gateways.map((g) => (
                  <tr key={g.name}>
                    <td>
                      <Link href={`/gateways/${encodeURIComponent(g.name)}`}>{g.name}</Link>
                    </td>
                    <td class="mono">{g.port}</td>
                    <td>{Object.keys(g.routes).length}</td>
                    <td class="mono">{g.revision}</td>
                    <td>
                      <AgentsSummary name={g.name} revision={g.revision} />
                    </td>
                    <td>
                      <Time value={g.updatedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollTable>
        )
      ) : list.loading ? (
        <p aria-busy="true">Loading…</p>
      ) : null}
    </>
  );
}
