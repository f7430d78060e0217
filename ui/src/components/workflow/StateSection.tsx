import { useState } from 'preact/hooks';
import { api, call } from '../../api.ts';
import { useAsync } from '../../use-async.ts';
import { Confirm } from '../Confirm.tsx';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { preview } from './json-input.ts';

/** The script's `ctx.state`, key by key; a key can be reset (deleted) so the next run starts without it. */
export function StateSection(props: { name: string; canWrite: boolean }) {
  const state = useAsync(async () => (await call(api.GET('/api/v1/workflows/{name}/state', { params: { path: { name: props.name } } }))).state, [props.name]);
  const [resetting, setResetting] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  async function reset(key: string) {
    setResetting(undefined);
    setError(undefined);
    try {
      await call(api.DELETE('/api/v1/workflows/{name}/state/{key}', { params: { path: { name: props.name, key } } }));
      await state.reload();
    } catch (err) {
      setError(err);
    }
  }

  const entries = Object.entries(state.data ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section>
      <h2 id="wf-state">State</h2>
      <ErrorNotice error={state.error} title="Could not read the state" />
      <ErrorNotice error={error} title="Not reset" />
      {state.data && entries.length === 0 ? <p class="muted">No state: the script has stored nothing.</p> : null}
      {entries.length ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="State keys">
          <table>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
                {props.canWrite ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {entries.map(([key, value]) => (
                <tr key={key}>
                  <td class="mono">{key}</td>
                  <td class="mono state-value">{preview(value, 400)}</td>
                  {props.canWrite ? (
                    <td>
                      <button type="button" class="danger" onClick={() => setResetting(key)} aria-label={`Reset ${key}`}>
                        Reset
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Confirm
        open={resetting !== undefined}
        title={`Reset state key ${resetting ?? ''}?`}
        confirmLabel="Reset"
        danger
        onConfirm={() => resetting !== undefined && void reset(resetting)}
        onCancel={() => setResetting(undefined)}
      >
        <p>The key is deleted; the next run of {props.name} starts without it.</p>
      </Confirm>
    </section>
  );
}
