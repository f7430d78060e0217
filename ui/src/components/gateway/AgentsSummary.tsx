import { api, call } from '../../api.ts';
import { useAsync } from '../../use-async.ts';

/** One line of a gateway's agent status: how many live agents serve its stored revision. */
export function AgentsSummary(props: { name: string; revision: string }) {
  const status = useAsync(() => call(api.GET('/api/v1/gateways/{name}/status', { params: { path: { name: props.name } } })), [props.name, props.revision]);
  const s = status.data;
  if (status.error) return <span class="muted">unknown</span>;
  if (!s) return <span class="muted">…</span>;
  const alive = s.agents.filter((a) => a.alive);
  if (alive.length === 0) return <span class="status status-failed">no agents</span>;
  const current = alive.filter((a) => a.current).length;
  return (
    <span class={`status ${s.live ? 'status-succeeded' : 'status-progressing'}`}>
      {s.live ? 'applied' : 'applying'} {current}/{alive.length}
    </span>
  );
}
