import { useState } from 'preact/hooks';
import { api, call } from '../../api.ts';
import { Link, navigate } from '../../router.tsx';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { Status } from '../Status.tsx';
import { parseJsonField, preview } from './json-input.ts';

type Run = { id: string; status: string; result?: unknown; error?: { code: string; message: string } };
type Effect = { capability: string; target: string; before?: unknown; after?: unknown };

const INPUT_LABEL = 'Input (JSON)';

function effectsOf(run: Run): Effect[] | undefined {
  const r = run.result as { effects?: unknown } | undefined;
  return r && Array.isArray(r.effects) ? (r.effects as Effect[]) : undefined;
}

/** Start a run by hand (then follow it on its page), or a dry run whose effects are listed here. */
export function RunSection(props: { name: string }) {
  const [input, setInput] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [dry, setDry] = useState<Run | undefined>(undefined);

  async function start(dryRun: boolean) {
    const parsed = parseJsonField(INPUT_LABEL, input);
    setDry(undefined);
    if (parsed instanceof Error) return setError(parsed);
    setError(undefined);
    setBusy(true);
    const body = { ...(parsed.value === undefined ? {} : { input: parsed.value }), ...(dryRun ? { dryRun: true } : {}) };
    try {
      const run = (await call(
        api.POST('/api/v1/workflows/{name}/runs', { params: { path: { name: props.name }, query: dryRun ? { wait: 'true' } : {} }, body }),
      )) as Run;
      if (dryRun) setDry(run);
      else navigate(`/runs/${encodeURIComponent(run.id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const effects = dry && effectsOf(dry);
  return (
    <section>
      <h2 id="wf-run">Run</h2>
      <div class="field">
        <label for="wf-run-input">{INPUT_LABEL}</label>
        <textarea
          id="wf-run-input"
          rows={3}
          value={input}
          onInput={(e) => setInput(e.currentTarget.value)}
          placeholder='{"version": "1.2.3"}'
          spellcheck={false}
        />
      </div>
      <div class="actions">
        <button type="button" class="primary" onClick={() => void start(false)} disabled={busy}>
          Run now
        </button>
        <button type="button" onClick={() => void start(true)} disabled={busy}>
          Dry run
        </button>
      </div>
      <ErrorNotice error={error} title="Not started" />
      {busy ? <p aria-busy="true">Running…</p> : null}
      {dry ? (
        <div class="dry-run" role="status">
          <p>
            Dry run <Link href={`/runs/${encodeURIComponent(dry.id)}`}>{dry.id}</Link> <Status value={dry.status} />
            {dry.error ? ` ${dry.error.code}: ${dry.error.message}` : ''}
          </p>
          {effects && effects.length === 0 ? <p>No effects: the run would change nothing.</p> : null}
          {effects && effects.length > 0 ? (
            <div class="table-wrap" tabIndex={0} role="region" aria-label="Effects">
              <table>
                <caption>Effects the run would have had, in order (none applied)</caption>
                <thead>
                  <tr>
                    <th scope="col">Capability</th>
                    <th scope="col">Target</th>
                    <th scope="col">Before</th>
                    <th scope="col">After</th>
                  </tr>
                </thead>
                <tbody>
                  {effects.map((e, i) => (
                    <tr key={i}>
                      <td class="mono">{e.capability}</td>
                      <td class="mono">{e.target}</td>
                      <td class="mono">{preview(e.before)}</td>
                      <td class="mono">{preview(e.after)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          {!effects && (dry.status === 'queued' || dry.status === 'running') ? (
            <p class="muted">Still running: open the run to see its effects when it ends.</p>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
