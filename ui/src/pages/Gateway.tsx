import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../api.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { AgentsTable } from '../components/gateway/AgentsTable.tsx';
import { describeTargets } from '../components/gateway/model.ts';
import { RouteCharts } from '../components/gateway/RouteCharts.tsx';
import { useSeries } from '../components/gateway/use-series.ts';
import { WeightsForm } from '../components/gateway/WeightsForm.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { Time } from '../components/Time.tsx';
import { Link } from '../router.tsx';
import { can, useMe } from '../session.ts';
import { useAsync } from '../use-async.ts';
import { ScrollTable } from '../components/ScrollTable.tsx';

const WINDOWS: Array<[value: string, label: string]> = [
  ['5m', '5 min'],
  ['15m', '15 min'],
  ['60m', '60 min'],
];
/** Agents apply a change within a second or two; a few seconds shows it without hammering the API. */
const STATUS_EVERY_MS = 3000;

/** One gateway: its routes and live weights, the weights form, which agents serve it, and per-route charts. */
export function Gateway(props: { name: string }) {
  const { name } = props;
  const me = useMe();
  const gateway = useAsync(() => call(api.GET('/api/v1/gateways/{name}', { params: { path: { name } } })), [name]);
  const status = useAsync(() => call(api.GET('/api/v1/gateways/{name}/status', { params: { path: { name } } })), [name], { everyMs: STATUS_EVERY_MS });
  const [span, setSpan] = useState('15m');
  const series = useSeries(name, span);
  const g = gateway.data;

  // The status carries the stored revision: a new one means the weights moved (a canary step), so load them.
  const storedRevision = status.data?.revision;
  useEffect(() => {
    if (g && storedRevision && storedRevision !== g.revision) void gateway.reload();
  }, [storedRevision]);

  return (
    <>
      <PageHeader title={`Gateway ${name}`}>
        <Link href="/gateways">All gateways</Link>
      </PageHeader>
      <ErrorNotice error={gateway.error} title="Could not load the gateway" />
      {g ? (
        <>
          <section class="panel" aria-labelledby="gw-routes">
            <h2 id="gw-routes">Routes</h2>
            <dl class="facts">
              <dt>Port</dt>
              <dd class="mono">{g.port}</dd>
              <dt>Mode</dt>
              <dd>{g.mode}</dd>
              <dt>Sticky</dt>
              <dd>{g.sticky}</dd>
              <dt>Revision</dt>
              <dd class="mono">{g.revision}</dd>
              <dt>Updated</dt>
              <dd>
                <Time value={g.updatedAt} />
              </dd>
            </dl>
            <ScrollTable label={`Routes of ${name}`}>
              <table>
                <caption class="visually-hidden">Routes of {name}</caption>
                <thead>
                  <tr>
                    <th scope="col">Route</th>
                    <th scope="col">Weight</th>
                    <th scope="col">Targets</th>
                    <th scope="col">Condition</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(g.routes).map(([route, r]) => (
                    <tr key={route}>
                      <td class="mono">{route}</td>
                      <td>
                        <span class="weight-bar" aria-hidden="true">
                          <span style={{ width: `${r.weight}%` }} />
                        </span>{' '}
                        {r.weight}%
                      </td>
                      <td>{describeTargets(r.targets)}</td>
                      <td>{r.condition ? `${r.condition} (${r.conditionStrength}%)` : <span class="muted">—</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollTable>
            {can(me, 'write', { kind: 'gateways', name }) ? (
              <>
                <h3>Set weights</h3>
                <WeightsForm gateway={g} onApplied={() => void status.reload()} reload={gateway.reload} />
              </>
            ) : null}
          </section>
          <section class="panel" aria-labelledby="gw-agents">
            <h2 id="gw-agents">Agents</h2>
            {status.data ? (
              <p>
                {status.data.live ? <span class="status status-succeeded">live</span> : <span class="status status-progressing">not live everywhere</span>}{' '}
                stored revision <span class="mono">{status.data.revision}</span>
              </p>
            ) : null}
            <ErrorNotice error={status.error} title="Could not load the agents" />
            {status.data ? <AgentsTable status={status.data} /> : null}
          </section>
          <section aria-labelledby="gw-metrics">
            <div class="page-header">
              <h2 id="gw-metrics">Traffic</h2>
              <div class="actions" role="group" aria-label="Window">
                {WINDOWS.map(([value, label]) => (
                  <button key={value} type="button" aria-pressed={span === value} onClick={() => setSpan(value)}>
                    {label}
                  </button>
                ))}
              </div>
            </div>
            <ErrorNotice error={series.error} title="Could not load the metrics" />
            {series.data ? (
              <>
                <p class="muted">
                  One point per {Math.round(series.data.stepMs / 1000)} s; next update <Time value={new Date(series.data.nextAt).toISOString()} />.
                </p>
                {series.data.routes.map((r) => (
                  <RouteCharts key={r.route} route={r.route} points={r.points} />
                ))}
              </>
            ) : (
              <p aria-busy="true">Loading…</p>
            )}
          </section>
        </>
      ) : gateway.loading ? (
        <p aria-busy="true">Loading…</p>
      ) : null}
    </>
  );
}
