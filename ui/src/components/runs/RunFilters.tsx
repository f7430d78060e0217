import { useEffect, useState } from 'preact/hooks';
import { setQuery } from '../../router.tsx';
import { RUN_STATUSES } from './types.ts';

/** How long typing pauses before the workflow filter goes to the address bar (and the API). */
const TYPING_MS = 300;

/** The runs filters, kept in the query string (`status`, `workflow`); changing one starts from the newest page again. */
export function RunFilters(props: { status: string; workflow: string }) {
  const [workflow, setWorkflow] = useState(props.workflow);
  // Back/forward or a link changes the query: show what it says.
  useEffect(() => setWorkflow(props.workflow), [props.workflow]);
  useEffect(() => {
    if (workflow.trim() === props.workflow) return;
    const timer = setTimeout(() => {
      setQuery('before', undefined);
      setQuery('workflow', workflow.trim() || undefined);
    }, TYPING_MS);
    return () => clearTimeout(timer);
  }, [workflow]);
  return (
    <form class="filters" role="search" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
      <div class="field">
        <label for="runs-status">Status</label>
        <select
          id="runs-status"
          value={props.status}
          onChange={(e) => {
            setQuery('before', undefined);
            setQuery('status', (e.currentTarget as HTMLSelectElement).value || undefined);
          }}
        >
          <option value="">any</option>
          {RUN_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace('_', ' ')}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="runs-workflow">Workflow</label>
        <input
          id="runs-workflow"
          type="search"
          value={workflow}
          placeholder="exact name"
          autoComplete="off"
          spellcheck={false}
          onInput={(e) => setWorkflow((e.currentTarget as HTMLInputElement).value)}
        />
      </div>
    </form>
  );
}
