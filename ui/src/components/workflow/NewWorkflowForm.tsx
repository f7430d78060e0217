import { useMemo, useState } from 'preact/hooks';
import { api, ApiError, call } from '../../api.ts';
import { navigate } from '../../router.tsx';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { ScriptEditor } from '../ScriptEditor.tsx';
import { scriptDiagnostics } from './script-issues.ts';

const STARTER = `export default async function (ctx) {
  ctx.log.info('hello from a new workflow');
}
`;

type Body = { script: string; trigger?: { cron: string; timezone?: string } | { events: { tags: string[] } } };

/** The trigger the optional fields describe; a string says what is wrong with them. */
function triggerOf(cron: string, timezone: string, tags: string): Body['trigger'] | string | undefined {
  const tagList = tags
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (cron.trim() && tagList.length) return 'Give either a cron expression or event tags, not both.';
  if (cron.trim()) return { cron: cron.trim(), ...(timezone.trim() ? { timezone: timezone.trim() } : {}) };
  if (tagList.length) return { events: { tags: tagList } };
  return undefined;
}

/** Creates a workflow: a name, its script and an optional cron or event trigger; opens it once stored. */
export function NewWorkflowForm(props: { onCancel: () => void }) {
  const [name, setName] = useState('');
  const [script, setScript] = useState(STARTER);
  const [cron, setCron] = useState('');
  const [timezone, setTimezone] = useState('');
  const [tags, setTags] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [saving, setSaving] = useState(false);
  const diagnostics = useMemo(() => scriptDiagnostics(error), [error]);

  async function save(e: Event) {
    e.preventDefault();
    const trimmed = name.trim();
    const trigger = triggerOf(cron, timezone, tags);
    if (!trimmed) return setError(new Error('Name: give the workflow a name.'));
    if (typeof trigger === 'string') return setError(new Error(trigger));
    setSaving(true);
    setError(undefined);
    try {
      const body: Body = { script, ...(trigger ? { trigger } : {}) };
      const path = { name: trimmed };
      // PUT replaces: a dry run first, so a name already taken is refused here rather than overwritten from a create form.
      const plan = await call(api.PUT('/api/v1/workflows/{name}', { params: { path, query: { dryRun: 'true' } }, body }));
      if ('outcome' in plan && plan.outcome !== 'created') throw new Error(`A workflow named ${trimmed} already exists: open it to change its script.`);
      await call(api.PUT('/api/v1/workflows/{name}', { params: { path, query: {} }, body }));
      navigate(`/workflows/${encodeURIComponent(trimmed)}`);
    } catch (err) {
      setError(err instanceof ApiError || err instanceof Error ? err : new Error(String(err)));
      setSaving(false);
    }
  }

  return (
    <form class="panel new-workflow" onSubmit={(e) => void save(e)} aria-labelledby="new-workflow-title">
      <h2 id="new-workflow-title">New workflow</h2>
      <div class="field">
        <label for="new-workflow-name">Name</label>
        <input
          id="new-workflow-name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          required
          autoComplete="off"
          spellcheck={false}
          aria-describedby="new-workflow-name-hint"
        />
        <span id="new-workflow-name-hint" class="hint">
          lowercase letters, digits and dashes
        </span>
      </div>
      <ScriptEditor value={script} onChange={setScript} diagnostics={diagnostics} />
      <fieldset class="trigger-fields">
        <legend>Trigger (optional: without one, runs start by hand)</legend>
        <div class="field">
          <label for="new-workflow-cron">Cron</label>
          <input id="new-workflow-cron" value={cron} onInput={(e) => setCron(e.currentTarget.value)} placeholder="*/5 * * * *" spellcheck={false} />
        </div>
        <div class="field">
          <label for="new-workflow-tz">Timezone</label>
          <input id="new-workflow-tz" value={timezone} onInput={(e) => setTimezone(e.currentTarget.value)} placeholder="UTC" spellcheck={false} />
        </div>
        <div class="field">
          <label for="new-workflow-tags">Event tags</label>
          <input id="new-workflow-tags" value={tags} onInput={(e) => setTags(e.currentTarget.value)} placeholder="alert, shop" spellcheck={false} />
        </div>
      </fieldset>
      <ErrorNotice error={error} title="Not saved" />
      <div class="actions">
        <button type="submit" class="primary" disabled={saving}>
          Save
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
