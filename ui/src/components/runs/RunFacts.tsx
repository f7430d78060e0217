import { Link } from '../../router.tsx';
import { Status } from '../Status.tsx';
import { duration, Time } from '../Time.tsx';
import { runDuration, triggerText, type Run } from './types.ts';

/** What is known about a run, as a definition list. */
export function RunFacts(props: { run: Run; now: number }) {
  const { run } = props;
  return (
    <dl class="facts">
      <dt>Workflow</dt>
      <dd>
        <Link href={`/workflows/${encodeURIComponent(run.workflow)}`}>{run.workflow}</Link>
      </dd>
      <dt>Version</dt>
      <dd>{run.workflowVersion}</dd>
      <dt>Status</dt>
      <dd>
        <Status value={run.status} />
        {run.dryRun ? <span class="muted"> (dry run: effects were recorded, not applied)</span> : null}
      </dd>
      <dt>Attempts</dt>
      <dd>
        {run.attempts} of {run.maxAttempts}
        {run.interrupted ? <span class="muted"> ({run.interrupted} interrupted, not counted)</span> : null}
      </dd>
      <dt>Trigger</dt>
      <dd>{triggerText(run.trigger)}</dd>
      <dt>Created</dt>
      <dd>
        <Time value={run.queuedAt} />
      </dd>
      <dt>Started</dt>
      <dd>
        <Time value={run.startedAt} />
      </dd>
      <dt>Finished</dt>
      <dd>
        <Time value={run.finishedAt} />
      </dd>
      <dt>Duration</dt>
      <dd>{duration(runDuration(run, props.now))}</dd>
      {run.engineId ? (
        <>
          <dt>Engine</dt>
          <dd class="mono">{run.engineId}</dd>
        </>
      ) : null}
    </dl>
  );
}

/** The run's outcome: its error (with the script position) or its result as JSON. */
export function RunOutcome(props: { run: Run }) {
  const { run } = props;
  if (run.error) {
    const e = run.error;
    return (
      <section aria-labelledby="run-error-title">
        <h2 id="run-error-title">Error</h2>
        <div class="notice error">
          <p class="run-error-message">
            <code>{e.code}</code> {e.message}
          </p>
          {e.line !== undefined ? (
            <p>
              In the script at line {e.line}, column {e.column ?? 1}
            </p>
          ) : null}
        </div>
      </section>
    );
  }
  if (run.result === undefined) return null;
  return (
    <section aria-labelledby="run-result-title">
      <h2 id="run-result-title">{run.dryRun ? 'Dry run result' : 'Result'}</h2>
      <pre class="block" tabIndex={0} aria-labelledby="run-result-title">
        {JSON.stringify(run.result, null, 2)}
      </pre>
    </section>
  );
}
