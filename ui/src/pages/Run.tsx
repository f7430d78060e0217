import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call } from '../api.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { RunFacts, RunOutcome } from '../components/runs/RunFacts.tsx';
import { RunLog } from '../components/runs/RunLog.tsx';
import { isFinal, type Run as RunData } from '../components/runs/types.ts';
import { can, useMe } from '../session.ts';
import { useAsync } from '../use-async.ts';

/** The clock, ticking each second while `active` (a running run's duration); no requests. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

/** One run: its facts, result or error, a Cancel button while it goes on, and its live log. */
export function Run(props: { id: string }) {
  const me = useMe();
  const loaded = useAsync(() => call(api.GET('/api/v1/runs/{id}', { params: { path: { id: props.id } } })), [props.id]);
  // The stream's `end` and a cancel answer are newer than the first load.
  const [latest, setLatest] = useState<RunData | undefined>(undefined);
  const [cancelError, setCancelError] = useState<unknown>(undefined);
  // Stays set after a successful request: the run ends as cancelled shortly, and the log stream says when.
  const [cancelling, setCancelling] = useState(false);
  const startedSeen = useRef(false);
  useEffect(() => {
    setLatest(undefined);
    setCancelling(false);
    startedSeen.current = false;
  }, [props.id]);
  const run = latest ?? loaded.data;
  const now = useNow(run?.status === 'running');

  async function cancel() {
    setCancelling(true);
    setCancelError(undefined);
    try {
      setLatest(await call(api.POST('/api/v1/runs/{id}/cancel', { params: { path: { id: props.id } } })));
    } catch (err) {
      setCancelError(err);
      setCancelling(false);
      // Most likely it already ended: show how.
      void loaded.reload().then(() => setLatest(undefined));
    }
  }

  return (
    <>
      <PageHeader title={`Run ${props.id}`}>
        {run && !isFinal(run.status) && can(me, 'run', { kind: 'workflows', name: run.workflow }) ? (
          <button type="button" class="danger" onClick={() => void cancel()} disabled={cancelling}>
            Cancel
          </button>
        ) : null}
      </PageHeader>
      <ErrorNotice error={loaded.error} title="Could not load the run" />
      <ErrorNotice error={cancelError} title="Could not cancel the run" />
      {run ? (
        <>
          <div class="panel">
            <RunFacts run={run} now={now} />
          </div>
          <RunOutcome run={run} />
          <RunLog
            key={run.id}
            id={run.id}
            live={!isFinal(run.status)}
            onEnd={setLatest}
            onActivity={() => {
              // A queued run that logs has started: read its new status once.
              if (run.status === 'queued' && !startedSeen.current) {
                startedSeen.current = true;
                void call(api.GET('/api/v1/runs/{id}', { params: { path: { id: props.id } } })).then((r) =>
                  setLatest((cur) => (cur && isFinal(cur.status) ? cur : r)),
                );
              }
            }}
          />
        </>
      ) : loaded.loading ? (
        <p aria-busy="true">Loading…</p>
      ) : null}
    </>
  );
}
