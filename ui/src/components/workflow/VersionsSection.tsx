import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../../api.ts';
import { useAsync } from '../../use-async.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { Time } from '../Time.tsx';
import { diffText } from './diff-text.ts';
import type { WorkflowDoc } from './types.ts';

/** Everything of a version but its numbering and times, as text to compare. */
function settingsText(wf: WorkflowDoc): string {
  const { script: _s, name: _n, version: _v, createdAt: _c, updatedAt: _u, paused: _p, quarantined: _q, ...rest } = wf;
  return JSON.stringify(rest, null, 2);
}

function Diff(props: { title: string; before: string; after: string }) {
  const d = diffText(props.before, props.after);
  return (
    <figure class="diff">
      <figcaption>
        {props.title}: {d.added || d.removed ? `${d.added} line(s) added, ${d.removed} removed` : 'no change'}
      </figcaption>
      {d.added || d.removed ? (
        <pre class="block diff-block" tabIndex={0} aria-label={`${props.title} diff`}>
          {d.text}
        </pre>
      ) : null}
    </figure>
  );
}

function VersionPicker(props: { id: string; label: string; versions: number[]; value: number; onChange: (v: number) => void }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} value={String(props.value)} onChange={(e) => props.onChange(Number(e.currentTarget.value))}>
        {props.versions.map((v) => (
          <option key={v} value={String(v)}>
            version {v}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The stored versions, and a line diff (script and settings) between any two of them. */
export function VersionsSection(props: { name: string; current: number }) {
  const list = useAsync(
    async () => (await call(api.GET('/api/v1/workflows/{name}/versions', { params: { path: { name: props.name } } }))).versions,
    [props.name, props.current],
  );
  const versions = (list.data ?? []).map((v) => v.version);
  const [from, setFrom] = useState(Math.max(1, props.current - 1));
  const [to, setTo] = useState(props.current);
  useEffect(() => {
    setFrom(Math.max(1, props.current - 1));
    setTo(props.current);
  }, [props.current]);
  const [showAll, setShowAll] = useState(false);
  const pair = useAsync(async () => {
    if (versions.length < 2 || from === to) return undefined;
    const get = (version: number) => call(api.GET('/api/v1/workflows/{name}', { params: { path: { name: props.name }, query: { version } } }));
    return Promise.all([get(from), get(to)]);
  }, [props.name, from, to, versions.length]);

  const newestFirst = [...(list.data ?? [])].reverse();
  const shown = showAll ? newestFirst : newestFirst.slice(0, 10);
  return (
    <section>
      <h2 id="wf-versions">Versions</h2>
      <ErrorNotice error={list.error} title="Could not list the versions" />
      {shown.length ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Versions">
          <table>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Stored</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((v) => (
                <tr key={v.version}>
                  <td>
                    {v.version}
                    {v.version === props.current ? <span class="muted"> (current)</span> : null}
                  </td>
                  <td>
                    <Time value={v.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {newestFirst.length > shown.length ? (
        <button type="button" onClick={() => setShowAll(true)}>
          Show all {newestFirst.length} versions
        </button>
      ) : null}
      {versions.length >= 2 ? (
        <>
          <h3>Compare</h3>
          <div class="filters">
            <VersionPicker id="wf-diff-from" label="From version" versions={versions} value={from} onChange={setFrom} />
            <VersionPicker id="wf-diff-to" label="To version" versions={versions} value={to} onChange={setTo} />
          </div>
          <ErrorNotice error={pair.error} title="Could not load the versions" />
          {from === to ? <p class="muted">Pick two different versions.</p> : null}
          {pair.data ? (
            <>
              <Diff title="Script" before={pair.data[0].script} after={pair.data[1].script} />
              <Diff title="Settings" before={settingsText(pair.data[0])} after={settingsText(pair.data[1])} />
            </>
          ) : null}
        </>
      ) : (
        <p class="muted">One version so far: nothing to compare.</p>
      )}
    </section>
  );
}
