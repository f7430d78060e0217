import { Status } from '../Status.tsx';
import { Time } from '../Time.tsx';
import { millis, percent, type HistoryEntry } from './model.ts';
import { ScrollTable } from '../ScrollTable.tsx';

/** Every check of the release, oldest first: what `veer release status` tabulates. */
export function ReleaseTimeline(props: { workflow: string; history: HistoryEntry[] }) {
  if (props.history.length === 0) return <p class="muted">No checks recorded yet.</p>;
  return (
    <ScrollTable label={`Steps of ${props.workflow}`}>
      <table class="release-timeline">
        <caption class="visually-hidden">Steps of {props.workflow}</caption>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Weight</th>
            <th scope="col">Verdict</th>
            <th scope="col">Canary error rate</th>
            <th scope="col">Canary p99</th>
            <th scope="col">Canary samples</th>
            <th scope="col">Stable error rate</th>
            <th scope="col">Stable p99</th>
            <th scope="col">At</th>
          </tr>
        </thead>
        <tbody>
          {props.history.map((h, i) => {
            const c = h.verdict?.canary;
            const s = h.verdict?.stable;
            return (
              <tr key={i}>
                <td>
                  {h.action ?? '?'}
                  {h.count && h.count > 1 ? ` ×${h.count}` : ''}
                  {h.signals?.length ? <span class="muted"> [{h.signals.join(', ')}]</span> : null}
                  {h.reason ? <div class="muted">{h.reason}</div> : null}
                </td>
                <td>{h.weight === undefined ? '—' : `${h.weight}%`}</td>
                <td>
                  <Status value={h.verdict?.outcome} />
                  {h.verdict?.note ? <div class="muted">{h.verdict.note}</div> : null}
                </td>
                <td>{percent(c?.errorRate)}</td>
                {/* The prometheus analysis records its latency query's value instead of a p99. */}
                <td>{millis(c?.p99 ?? c?.latency)}</td>
                <td>{c?.requests ?? '—'}</td>
                <td>{percent(s?.errorRate)}</td>
                <td>{millis(s?.p99 ?? s?.latency)}</td>
                <td>
                  <Time value={h.last ?? h.time} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollTable>
  );
}
