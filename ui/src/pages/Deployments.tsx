import { useState } from 'preact/hooks';
import type { paths } from '../../../cli/api/schema.ts';
import { api, call } from '../api.ts';
import { Confirm } from '../components/Confirm.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { Status } from '../components/Status.tsx';
import { can, useMe } from '../session.ts';
import { useAsync } from '../use-async.ts';

type Deployment = paths['/api/v1/deployments']['get']['responses'][200]['content']['application/json']['deployments'][number];

/** While a rollout is under way readiness changes by the second; otherwise only on a scale. */
const ROLLOUT_POLL_MS = 3000;

function bytes(n: number | undefined): string {
  if (n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${+v.toFixed(1)} ${units[u]}`;
}

function Endpoints(props: { endpoints: Deployment['endpoints'] }) {
  if (props.endpoints.length === 0) return <span class="muted">none</span>;
  return (
    <ul class="endpoints">
      {props.endpoints.map((e) => (
        <li key={`${e.host}:${e.port}`}>
          <code>
            {e.host}:{e.port}
          </code>{' '}
          {e.name ? <span class="muted">{e.name} </span> : null}
          <span class={e.ready ? 'ep-ready' : 'ep-not-ready'}>{e.ready ? 'ready' : 'not ready'}</span>
        </li>
      ))}
    </ul>
  );
}

/** The instances input and its Scale button; the change is applied only after the Confirm dialog. */
function ScaleControl(props: { deployment: Deployment; onScale: (name: string, instances: number) => void }) {
  const d = props.deployment;
  const [value, setValue] = useState(String(d.desiredInstances));
  const id = `scale-${d.name}`;
  const n = Number(value);
  const valid = value.trim() !== '' && Number.isInteger(n) && n >= 0 && n <= 10_000;
  return (
    <form
      class="scale-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) props.onScale(d.name, n);
      }}
    >
      <label for={id} class="visually-hidden">
        {d.name} instances
      </label>
      <input id={id} type="number" min={0} max={10000} step={1} value={value} onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)} />
      <button type="submit" disabled={!valid || n === d.desiredInstances}>
        Scale
      </button>
    </form>
  );
}

/** Deployments on the configured scheduler: instances, readiness, endpoints, and (write scope) scaling. */
export function Deployments() {
  const me = useMe();
  const [pending, setPending] = useState<{ name: string; instances: number; from: number } | undefined>(undefined);
  const [scaleError, setScaleError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const [progressing, setProgressing] = useState(false);
  const list = useAsync(
    async () => {
      const answer = await call(api.GET('/api/v1/deployments'));
      setProgressing(answer.deployments.some((d) => d.status === 'progressing' || d.readyInstances !== d.desiredInstances));
      return answer;
    },
    [],
    { everyMs: progressing ? ROLLOUT_POLL_MS : undefined },
  );
  const deployments = list.data?.deployments ?? [];
  const scalable = (name: string) => can(me, 'write', { kind: 'deployments', name });
  const anyScalable = deployments.some((d) => scalable(d.name));

  async function apply() {
    if (!pending) return;
    const { name, instances } = pending;
    setPending(undefined);
    setScaleError(undefined);
    setDone(undefined);
    try {
      await call(api.PUT('/api/v1/deployments/{name}/scale', { params: { path: { name } }, body: { instances } }));
      setDone(`${name}: scaling to ${instances} ${instances === 1 ? 'instance' : 'instances'}.`);
      await list.reload();
    } catch (err) {
      setScaleError(err);
    }
  }

  return (
    <>
      <PageHeader title="Deployments">
        <button type="button" onClick={() => void list.reload()} disabled={list.loading}>
          Refresh
        </button>
      </PageHeader>
      {list.data ? <p class="hint">Scheduler: {list.data.scheduler}</p> : null}
      <ErrorNotice error={list.error} title="Could not load deployments" />
      <ErrorNotice error={scaleError} title="Could not scale" />
      {done ? (
        <p class="notice info" role="status">
          {done}
        </p>
      ) : null}
      {list.data && deployments.length === 0 ? <p class="muted">No deployments.</p> : null}
      {deployments.length > 0 ? (
        <div class="table-wrap deployments-wrap">
          <table class="deployments-table named-rows">
            <caption class="visually-hidden">Deployments</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Instances</th>
                <th scope="col">Resources</th>
                <th scope="col">Endpoints</th>
                {anyScalable ? <th scope="col">Scale</th> : null}
              </tr>
            </thead>
            <tbody>
              {deployments.map((d) => (
                <tr key={d.name}>
                  <th scope="row">
                    {d.name}
                    {d.image ? (
                      <div class="muted mono deploy-what">{d.image}</div>
                    ) : d.command ? (
                      <div class="muted mono deploy-what" title={d.command}>
                        {d.command}
                      </div>
                    ) : null}
                  </th>
                  <td>
                    <Status value={d.status} />
                  </td>
                  <td>
                    {d.readyInstances} of {d.desiredInstances} ready
                  </td>
                  <td>{d.cpu === undefined && d.memory === undefined ? <span class="muted">—</span> : `${d.cpu ?? '—'} CPU · ${bytes(d.memory)}`}</td>
                  <td>
                    <Endpoints endpoints={d.endpoints} />
                  </td>
                  {anyScalable ? (
                    <td>
                      {scalable(d.name) ? (
                        <ScaleControl
                          key={`${d.name}:${d.desiredInstances}`}
                          deployment={d}
                          onScale={(name, instances) => setPending({ name, instances, from: d.desiredInstances })}
                        />
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Confirm
        open={pending !== undefined}
        title={`Scale ${pending?.name ?? ''}?`}
        confirmLabel="Apply"
        onConfirm={() => void apply()}
        onCancel={() => setPending(undefined)}
      >
        {pending ? (
          <p>
            From {pending.from} to {pending.instances} {pending.instances === 1 ? 'instance' : 'instances'}.
            {pending.instances === 0 ? ' Every instance stops.' : ''}
          </p>
        ) : null}
      </Confirm>
    </>
  );
}
