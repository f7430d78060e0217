import { useState } from 'preact/hooks';
import { api, call } from '../../api.ts';
import { Link } from '../../router.tsx';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { parseJsonField } from './json-input.ts';

type Sent = { signal: { id: string; name: string }; run?: { id: string } | null; skipped?: string };
const VALUE_LABEL = 'Value (JSON)';

/** Posts a signal to the workflow's inbox for its runs to take (`ctx.signals.take`): promote, abort, or any name. */
export function SignalsSection(props: { name: string }) {
  const [custom, setCustom] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [sent, setSent] = useState<Sent | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  async function send(signal: string, withValue: boolean) {
    setSent(undefined);
    if (!signal) return setError(new Error('Signal: give the signal a name.'));
    const parsed = withValue ? parseJsonField(VALUE_LABEL, value) : { value: undefined };
    if (parsed instanceof Error) return setError(parsed);
    setError(undefined);
    setBusy(true);
    try {
      const body = { name: signal, ...(parsed.value === undefined ? {} : { value: parsed.value }) };
      setSent((await call(api.POST('/api/v1/workflows/{name}/signals', { params: { path: { name: props.name } }, body }))) as Sent);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section>
      <h2 id="wf-signals">Signals</h2>
      <div class="actions">
        <button type="button" class="primary" onClick={() => void send('promote', false)} disabled={busy}>
          Promote
        </button>
        <button type="button" class="danger" onClick={() => void send('abort', false)} disabled={busy}>
          Abort
        </button>
      </div>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void send(custom.trim(), true);
        }}
      >
        <div class="field">
          <label for="wf-signal-name">Signal</label>
          <input
            id="wf-signal-name"
            value={custom}
            onInput={(e) => setCustom(e.currentTarget.value)}
            placeholder="promote-full"
            spellcheck={false}
            autoComplete="off"
          />
        </div>
        <div class="field">
          <label for="wf-signal-value">{VALUE_LABEL}</label>
          <input id="wf-signal-value" value={value} onInput={(e) => setValue(e.currentTarget.value)} placeholder="optional" spellcheck={false} />
        </div>
        <button type="submit" disabled={busy}>
          Send signal
        </button>
      </form>
      <ErrorNotice error={error} title="Not sent" />
      {sent ? (
        <p class="notice info" role="status">
          Sent <code>{sent.signal.name}</code> ({sent.signal.id}).
          {sent.run ? (
            <>
              {' '}
              It started run <Link href={`/runs/${encodeURIComponent(sent.run.id)}`}>{sent.run.id}</Link>.
            </>
          ) : null}
          {sent.skipped ? ` No run started: ${sent.skipped}.` : ''}
        </p>
      ) : null}
    </section>
  );
}
