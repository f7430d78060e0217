import type { Trigger } from './types.ts';

/** A trigger in a few words: the cron expression, the event tags, or manual. */
export function triggerText(trigger: Trigger | undefined): string {
  if (!trigger) return 'manual';
  if ('cron' in trigger) return trigger.timezone && trigger.timezone !== 'UTC' ? `cron ${trigger.cron} (${trigger.timezone})` : `cron ${trigger.cron}`;
  if ('events' in trigger) {
    const tags = trigger.events.tags.join(', ');
    return `events ${tags || '(any)'}${trigger.events.type ? ` of type ${trigger.events.type}` : ''}`;
  }
  if ('elasticsearch' in trigger) return `elasticsearch ${trigger.elasticsearch.index} every ${trigger.elasticsearch.every}`;
  return 'signals';
}
