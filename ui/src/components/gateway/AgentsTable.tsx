import { Time } from '../Time.tsx';
import type { GatewayStatusView } from './model.ts';
import { ScrollTable } from '../ScrollTable.tsx';

/** Which agent serves which revision of the gateway (the stored one is `current`). */
export function AgentsTable(props: { status: GatewayStatusView }) {
  const { status } = props;
  if (status.agents.length === 0) return <p class="muted">No gateway agent has reported yet: nothing serves this gateway.</p>;
  return (
    <ScrollTable label="Gateway agents table">
      <table>
        <caption class="visually-hidden">Gateway agents</caption>
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">Alive</th>
            <th scope="col">Serves revision</th>
            <th scope="col">Applied</th>
            <th scope="col">Heartbeat</th>
            <th scope="col">Problem</th>
          </tr>
        </thead>
        <tbody>
          {status.agents.map((a) => (
            <tr key={a.agentId}>
              <td class="mono">{a.agentId}</td>
              <td>{a.alive ? 'yes' : <span class="status status-failed">no</span>}</td>
              <td>
                <span class="mono">{a.appliedRevision ?? 'none yet'}</span>{' '}
                {a.current ? <span class="status status-succeeded">current</span> : <span class="status status-progressing">behind</span>}
              </td>
              <td>
                <Time value={a.appliedAt} />
              </td>
              <td>
                <Time value={a.heartbeatAt} />
              </td>
              <td>
                {a.error ?? ''}
                {a.routesWithoutTargets?.length ? `routes without targets: ${a.routesWithoutTargets.join(', ')}` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollTable>
  );
}
