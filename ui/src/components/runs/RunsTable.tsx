import { Link } from '../../router.tsx';
import { Status } from '../Status.tsx';
import { duration, Time } from '../Time.tsx';
import { runDuration, triggerText, type Run } from './types.ts';

/** Runs as a table: id, workflow, status, trigger, created, duration (each id and workflow a link). */
export function RunsTable(props: { runs: Run[]; caption: string; captionHidden?: boolean; empty?: string }) {
  if (props.runs.length === 0) return <p class="muted">{props.empty ?? 'No runs.'}</p>;
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={props.caption}>
      <table class="runs-table">
        <caption class={props.captionHidden ? 'visually-hidden' : undefined}>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Workflow</th>
            <th scope="col">Status</th>
            <th scope="col">Trigger</th>
            <th scope="col">Created</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {props.runs.map((run) => (
            <tr key={run.id}>
              <td>
                <Link href={`/runs/${encodeURIComponent(run.id)}`} class="mono">
                  {run.id}
                </Link>
              </td>
              <td>
                <Link href={`/workflows/${encodeURIComponent(run.workflow)}`}>{run.workflow}</Link>
              </td>
              <td>
                <Status value={run.status} />
                {run.dryRun ? <span class="muted"> (dry run)</span> : null}
              </td>
              <td>{triggerText(run.trigger)}</td>
              <td>
                <Time value={run.queuedAt} />
              </td>
              <td>{duration(runDuration(run))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
