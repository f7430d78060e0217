import { Time } from '../Time.tsx';
import type { VeerEvent } from './types.ts';

/** Compact JSON of an event's value, cut so one huge value cannot stretch the table. */
function preview(value: unknown): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value) ?? '';
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** Events as a table: time, type, tags, source, value. */
export function EventsTable(props: { events: VeerEvent[]; caption: string; captionHidden?: boolean; empty?: string }) {
  if (props.events.length === 0) return <p class="muted">{props.empty ?? 'No events.'}</p>;
  // Focusable, so a keyboard can scroll it where it is wider than the screen.
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={props.caption}>
      <table class="events-table">
        <caption class={props.captionHidden ? 'visually-hidden' : undefined}>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Type</th>
            <th scope="col">Tags</th>
            <th scope="col">Source</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {props.events.map((e) => (
            <tr key={e.id}>
              <td>
                <Time value={e.timestamp} />
              </td>
              <td>
                <code>{e.type}</code>
              </td>
              <td>
                <ul class="tags">
                  {e.tags.map((t) => (
                    <li key={t}>
                      <code>{t}</code>
                    </li>
                  ))}
                </ul>
              </td>
              <td>{e.source ?? <span class="muted">—</span>}</td>
              <td>
                <code class="event-value">{preview(e.value)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
