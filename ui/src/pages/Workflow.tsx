import { api, call } from '../api.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { Status } from '../components/Status.tsx';
import { Time } from '../components/Time.tsx';
import { PauseSection } from '../components/workflow/PauseSection.tsx';
import { RecentRunsSection } from '../components/workflow/RecentRunsSection.tsx';
import { RunSection } from '../components/workflow/RunSection.tsx';
import { ScriptSection } from '../components/workflow/ScriptSection.tsx';
import { SignalsSection } from '../components/workflow/SignalsSection.tsx';
import { StateSection } from '../components/workflow/StateSection.tsx';
import { triggerText } from '../components/workflow/trigger-text.ts';
import { TriggersSection } from '../components/workflow/TriggersSection.tsx';
import { VersionsSection } from '../components/workflow/VersionsSection.tsx';
import { Link } from '../router.tsx';
import { can, useMe } from '../session.ts';
import { useAsync } from '../use-async.ts';

/** One workflow: its script (editable), runs by hand, pause, signals, versions, state and trigger history. */
export function Workflow(props: { name: string }) {
  const { name } = props;
  const me = useMe();
  const wf = useAsync(() => call(api.GET('/api/v1/workflows/{name}', { params: { path: { name }, query: {} } })), [name]);
  const resource = { kind: 'workflows' as const, name };
  const canWrite = can(me, 'write', resource);
  const canRun = can(me, 'run', resource);

  if (!wf.data)
    return (
      <>
        <PageHeader title={name} />
        <p>
          <Link href="/workflows">All workflows</Link>
        </p>
        {wf.error ? <ErrorNotice error={wf.error} title="Could not load the workflow" /> : <p aria-busy="true">Loading…</p>}
      </>
    );

  const w = wf.data;
  const reload = () => void wf.reload();
  return (
    <>
      <PageHeader title={name} />
      <div class="panel workflow-head">
        <dl class="facts">
          <dt>Version</dt>
          <dd>{w.version}</dd>
          <dt>State</dt>
          <dd>
            <Status value={w.paused ? 'paused' : w.enabled ? 'enabled' : 'disabled'} />
          </dd>
          <dt>Trigger</dt>
          <dd class="mono">{triggerText(w.trigger)}</dd>
          <dt>Updated</dt>
          <dd>
            <Time value={w.updatedAt} />
          </dd>
          {w.description ? (
            <>
              <dt>Description</dt>
              <dd>{w.description}</dd>
            </>
          ) : null}
        </dl>
        {w.quarantined ? (
          <div class="notice error" role="alert">
            Version {w.quarantined.version} is quarantined since <Time value={w.quarantined.since} />: {w.quarantined.reason}. Its runs fail at once; store a
            new version to release it.
          </div>
        ) : null}
      </div>
      <ErrorNotice error={wf.error} title="Could not reload the workflow" />
      <div class="workflow-sections">
        <ScriptSection workflow={w} canWrite={canWrite} onSaved={reload} />
        {canRun ? <RunSection name={name} /> : null}
        <PauseSection workflow={w} canWrite={canWrite} onChanged={reload} />
        {canRun ? <SignalsSection name={name} /> : null}
        <VersionsSection name={name} current={w.version} />
        <StateSection name={name} canWrite={canWrite} />
        <TriggersSection name={name} />
        <RecentRunsSection name={name} />
      </div>
    </>
  );
}
