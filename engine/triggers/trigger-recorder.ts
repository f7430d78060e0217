import type { SkipReason, TriggerKind, TriggerRecord } from '../domain/trigger-record.ts';

/**
 * The one place trigger outcomes are recorded: the history entry, the skip counter and (for
 * skips) the `trigger.skipped` event (tags `workflows:<name>`, `triggers`; value: workflow,
 * trigger, reason and the record's ids). The launcher records what it decides; the cron
 * scheduler records missed ticks and the event dispatcher trigger loops through it too.
 * Never throws: a lost record is logged, it must not stop a trigger.
 */
export interface TriggerRecorder {
  fired(workflow: string, kind: TriggerKind, runId: string, queued: boolean, ids?: TriggerIds): Promise<void>;
  skipped(workflow: string, kind: TriggerKind, reason: SkipReason, ids?: TriggerIds & { runId?: string; count?: number; from?: string; to?: string; hops?: number }): Promise<void>;
}

export type TriggerIds = Pick<TriggerRecord, 'tick' | 'eventId' | 'signalId' | 'index'>;
