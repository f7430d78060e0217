import { useState } from 'preact/hooks';
import { api, call } from '../../api.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { Time } from '../Time.tsx';
import type { WorkflowDoc } from './types.ts';

/** Pause the triggers (manual runs still start) with an optional reason, or resume them. */
export function PauseSection(props: { workflow: WorkflowDoc; canWrite: boolean; onChanged: () => void }) {
  const { name, paused } = props.workflow;
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  async function act(pause: boolean) {
    setBusy(true);
    setError(undefined);
    try {
      const path = { path: { name } };
      if (pause) await call(api.POST('/api/v1/workflows/{name}/pause', { params: path, body: reason.trim() ? { reason: reason.trim() } : {} }));
      else await call(api.POST('/api/v1/workflows/{name}/resume', { params: path }));
      setReason('');
      props.onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section>
      <h2 id="wf-pause">Pause triggers</h2>
      {paused ? (
        <p>
          Paused by {paused.by} <Time value={paused.at} />
          {paused.reason ? `: ${paused.reason}` : ''}. Triggers are refused (recorded as skipped); manual runs still start.
        </p>
      ) : (
        <p>Not paused: triggers start runs.</p>
      )}
      {props.canWrite && !paused ? (
        <div class="inline-form">
          <div class="field">
            <label for="wf-pause-reason">Reason</label>
            <input id="wf-pause-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} maxLength={500} placeholder="optional" />
          </div>
          <button type="button" onClick={() => void act(true)} disabled={busy}>
            Pause
          </button>
        </div>
      ) : null}
      {props.canWrite && paused ? (
        <div class="actions">
          <button type="button" class="primary" onClick={() => void act(false)} disabled={busy}>
            Resume
          </button>
        </div>
      ) : null}
      <ErrorNotice error={error} title={paused ? 'Not resumed' : 'Not paused'} />
    </section>
  );
}
