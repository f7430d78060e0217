import { formatTable, relativeTime } from '../output.ts';
import type { VeerEvent } from '../resources.ts';
import { shortJson } from './text.ts';

export function eventsTable(events: VeerEvent[]): string {
  return formatTable(
    ['TIME', 'TYPE', 'TAGS', 'SOURCE', 'VALUE'],
    events.map((e) => [relativeTime(e.timestamp), e.type, e.tags.join(','), e.source, shortJson(e.value)]),
  );
}
