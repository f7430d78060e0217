import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, call } from '../../api.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { ScriptEditor } from '../ScriptEditor.tsx';
import { scriptDiagnostics } from './script-issues.ts';
import { specWithScript } from './spec-of.ts';
import type { WorkflowDoc } from './types.ts';

/** The current script in the editor; Save stores it as a new version with every other field kept. */
export function ScriptSection(props: { workflow: WorkflowDoc; canWrite: boolean; onSaved: () => void }) {
  const wf = props.workflow;
  const [script, setScript] = useState(wf.script);
  const [error, setError] = useState<unknown>(undefined);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<number | undefined>(undefined);
  const diagnostics = useMemo(() => scriptDiagnostics(error), [error]);
  // A reload (another version) replaces what is shown.
  useEffect(() => setScript(wf.script), [wf.version, wf.script]);

  async function save() {
    setSaving(true);
    setError(undefined);
    setSaved(undefined);
    try {
      const stored = await call(api.PUT('/api/v1/workflows/{name}', { params: { path: { name: wf.name }, query: {} }, body: specWithScript(wf, script) }));
      setSaved('version' in stored ? stored.version : undefined);
      props.onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  }

  return (
    <section>
      <h2 id="wf-script">Script</h2>
      <ScriptEditor value={script} onChange={setScript} diagnostics={diagnostics} readOnly={!props.canWrite} />
      <ErrorNotice error={error} title="Not saved" />
      {saved !== undefined ? (
        <p class="notice info" role="status">
          Saved as version {saved}.
        </p>
      ) : null}
      {props.canWrite ? (
        <div class="actions">
          <button type="button" class="primary" onClick={() => void save()} disabled={saving || script === wf.script}>
            Save
          </button>
        </div>
      ) : null}
    </section>
  );
}
