import { useState } from 'preact/hooks';
import { api, call } from '../../api.ts';
import { Link } from '../../router.tsx';
import { can, useMe } from '../../session.ts';
import { Confirm } from '../Confirm.tsx';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { Status } from '../Status.tsx';
import { Time } from '../Time.tsx';
import { millis, parseSteps, percent, type CanaryState, type HistoryEntry, type ReleaseView, type RouteNumbers } from './model.ts';
import { ReleaseTimeline } from './ReleaseTimeline.tsx';
import { ScrollTable } from '../ScrollTable.tsx';

/**
 * One canary release: phase, step and weight, the last check with the canary's and stable's
 * numbers, a gate waiting for promote, the newest run, Promote / Abort (signals), and the
 * timeline of checks. `onChanged` reloads the caller's data after a signal.
 */
export function ReleasePanel(props: { release: ReleaseView; onChanged?: () => void; timeline?: boolean }) {
  const { release: view } = props;
  const me = useMe();
  const r = (view.release ?? {}) as CanaryState;
  const history = view.history as HistoryEntry[];
  const steps = parseSteps(view.steps);
  const index = r.stepIndex ?? -1;
  const step = view.release === null ? 'not started' : index < 0 ? 'not started' : `${index + 1}${steps.length ? ` of ${steps.length}` : ''}`;
  const current = index >= 0 ? steps[index] : undefined;
  const last = [...history].reverse().find((h) => h.verdict && h.verdict.outcome !== 'skipped') ?? history[history.length - 1];
  const waiting = r.phase === 'paused' && current && 'pause' in current ? current.pause : undefined;
  const finished = r.phase === 'promoted' || r.phase === 'rolled_back';
  const canSignal = can(me, 'run', { kind: 'workflows', name: view.workflow });
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [sent, setSent] = useState<string | undefined>(undefined);
  const [confirmAbort, setConfirmAbort] = useState(false);
  const id = `release-${view.workflow}`;

  const signal = async (name: 'promote' | 'abort') => {
    setConfirmAbort(false);
    setBusy(name);
    setError(undefined);
    setSent(undefined);
    try {
      const res = await call(api.POST('/api/v1/workflows/{name}/signals', { params: { path: { name: view.workflow } }, body: { name } }));
      setSent(
        res.run ? `${name} sent; run ${res.run.id} started to take it.` : `${name} sent; the next run takes it${res.skipped ? ` (${res.skipped})` : ''}.`,
      );
      props.onChanged?.();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <section class="panel release" aria-labelledby={id}>
      <div class="page-header">
        <h2 id={id}>
          <Link href={`/workflows/${encodeURIComponent(view.workflow)}`}>{view.workflow}</Link>
        </h2>
        <Status value={r.phase ?? (view.release === null ? 'waiting' : undefined)} />
      </div>
      <p class="release-summary">
        Step {step}, canary weight {r.weight ?? 0}%
        {view.gateway ? (
          <>
            {' '}
            on gateway <Link href={`/gateways/${encodeURIComponent(view.gateway)}`}>{view.gateway}</Link> ({view.canaryRoute} vs {view.stableRoute})
          </>
        ) : null}
      </p>
      {view.release === null ? <p class="muted">No release state yet: it is recorded on the workflow's first run.</p> : null}
      {waiting ? (
        <p class="notice info">
          {waiting === 'manual' ? 'Waiting for promote' : `Pausing for ${waiting}`} since <Time value={r.pausedSince ?? undefined} />.
        </p>
      ) : null}
      <dl class="facts">
        <dt>Release</dt>
        <dd class="mono">{r.id ?? '—'}</dd>
        <dt>Failures</dt>
        <dd>
          {r.failures ?? 0}
          {r.noDataStreak ? `, ${r.noDataStreak} no-data check(s) in a row` : ''}
        </dd>
        <dt>Started</dt>
        <dd>
          <Time value={r.startedAt} />
        </dd>
        {r.finishedAt ? (
          <>
            <dt>Finished</dt>
            <dd>
              <Time value={r.finishedAt} />
            </dd>
          </>
        ) : null}
        <dt>Triggers</dt>
        <dd>
          {view.paused ? (
            <>
              paused by {view.paused.by} <Time value={view.paused.at} />
              {view.paused.reason ? `: ${view.paused.reason}` : ''}
            </>
          ) : (
            'active'
          )}
        </dd>
        <dt>Last run</dt>
        <dd>
          {view.lastRun ? (
            <>
              <Link href={`/runs/${encodeURIComponent(view.lastRun.id)}`}>{view.lastRun.id}</Link> <Status value={view.lastRun.status} />{' '}
              <Time value={view.lastRun.queuedAt} />
            </>
          ) : (
            <span class="muted">none yet</span>
          )}
        </dd>
        {(r.reason ?? last?.reason ?? last?.verdict?.note) ? (
          <>
            <dt>Reason</dt>
            <dd>{r.reason ?? last?.reason ?? last?.verdict?.note}</dd>
          </>
        ) : null}
      </dl>
      {last?.verdict ? (
        <div class="verdict">
          <h3>
            Last analysis: <Status value={last.verdict.outcome} /> <span class="muted">at {last.weight ?? '?'}%</span> <Time value={last.last ?? last.time} />
          </h3>
          <ScrollTable label={`Last analysis of ${view.workflow}`}>
            <table>
              <caption class="visually-hidden">Last analysis of {view.workflow}</caption>
              <thead>
                <tr>
                  <th scope="col">Route</th>
                  <th scope="col">Requests</th>
                  <th scope="col">Error rate</th>
                  <th scope="col">p99</th>
                </tr>
              </thead>
              <tbody>
                <NumbersRow label={`canary (${view.canaryRoute})`} n={last.verdict.canary} />
                <NumbersRow label={`stable (${view.stableRoute})`} n={last.verdict.stable} />
              </tbody>
            </table>
          </ScrollTable>
          {last.verdict.checks?.length ? (
            <ul class="checks">
              {last.verdict.checks.map((c, i) => (
                <li key={i}>
                  {c.ok ? 'ok' : 'failed'}: {c.check} {c.value ?? '—'} (limit {c.limit})
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {canSignal && !finished ? (
        <div class="actions">
          <button type="button" class="primary" disabled={busy !== undefined} onClick={() => void signal('promote')}>
            Promote
          </button>
          <button type="button" class="danger" disabled={busy !== undefined} onClick={() => setConfirmAbort(true)}>
            Abort
          </button>
        </div>
      ) : null}
      {sent ? (
        <p class="notice info" role="status">
          {sent}
        </p>
      ) : null}
      <ErrorNotice error={error} title="Signal not sent" />
      {props.timeline === false ? null : (
        <details class="timeline" open>
          <summary>Timeline ({history.length})</summary>
          <ReleaseTimeline workflow={view.workflow} history={history} />
        </details>
      )}
      {/* Mounted only while open: several panels on a page would share the dialog's heading id. */}
      {confirmAbort ? (
        <Confirm
          open={confirmAbort}
          title={`Abort ${view.workflow}?`}
          confirmLabel="Abort release"
          danger
          onConfirm={() => void signal('abort')}
          onCancel={() => setConfirmAbort(false)}
        >
          <p>
            Rolls the release back at once: {view.stableRoute} 100 %, {view.canaryRoute} 0 %, and the canary deployment scaled down.
          </p>
        </Confirm>
      ) : null}
    </section>
  );
}

function NumbersRow(props: { label: string; n: RouteNumbers | undefined }) {
  const n = props.n;
  return (
    <tr>
      <th scope="row">{props.label}</th>
      <td>{n ? (n.noData ? `${n.requests ?? 0} (too few)` : (n.requests ?? '—')) : '—'}</td>
      <td>{percent(n?.errorRate)}</td>
      <td>{millis(n?.p99 ?? n?.latency)}</td>
    </tr>
  );
}
