import type { EmitEvent } from '../domain/emit.ts';
import type { SkipReason, TriggerKind, TriggerRecord } from '../domain/trigger-record.ts';
import type { TriggerHistory } from '../ports/trigger-history.ts';
import type { Logger } from '../shared/logger.ts';

/**
 * The one place trigger outcomes are recorded: the history entry, the skip counter and (for
 * skips) the `trigger.skipped` event (tags `workflows:<name>`, `triggers`; value: workflow,
 * trigger, reason and the record's ids). The launcher records what it decides; the cron
 * scheduler records missed ticks and the event dispatcher trigger loops through it too.
 * Never throws: a lost record is logged, it must not stop a trigger.
 */
export interface TriggerRecorder {
  fired(workflow: string, kind: TriggerKind, runId: string, queued: boolean, ids?: TriggerIds): Promise<void>;
  skipped(workflow: string, kind: TriggerKind, reason: SkipReason, details?: SkipDetails): Promise<void>;
}

export type TriggerIds = Pick<TriggerRecord, 'tick' | 'eventId' | 'signalId' | 'index'>;

/** What a skip record holds, plus (for the event only) the hops of what it reports and the event's own context. */
export type SkipDetails = TriggerIds & Pick<TriggerRecord, 'runId' | 'count' | 'from' | 'to'> & { hops?: number; eventContext?: Record<string, unknown> };

export interface TriggerRecorderOptions {
  history: Pick<TriggerHistory, 'record'>;
  /** Veer's own events path (source `veer`). */
  emit: EmitEvent;
  logger: Logger;
}

export function createTriggerRecorder(o: TriggerRecorderOptions): TriggerRecorder {
  const log = o.logger.child({ component: 'triggers' });
  const keep = async (workflow: string, record: TriggerRecord) => {
    try {
      await o.history.record(workflow, record);
    } catch (err) {
      log.warn({ err, workflow, record }, 'trigger outcome not recorded');
    }
  };
  return {
    async fired(workflow, kind, runId, queued, ids = {}) {
      await keep(workflow, { at: new Date().toISOString(), trigger: kind, outcome: queued ? 'queued' : 'fired', runId, ...ids });
    },
    async skipped(workflow, kind, reason, details = {}) {
      const { hops, eventContext, ...rest } = details;
      const record: TriggerRecord = { at: new Date().toISOString(), trigger: kind, outcome: 'skipped', reason, ...rest };
      log.info({ workflow, ...record }, `trigger skipped: ${reason}`);
      await keep(workflow, record);
      // A notice carries the hops of what it reports, so nothing it matches can loop either.
      await o.emit({
        tags: [`workflows:${workflow}`, 'triggers'],
        type: 'trigger.skipped',
        value: { ...eventContext, workflow, ...rest, trigger: kind, reason, ...(hops ? { hops } : {}) },
        ...(hops ? { hops } : {}),
      });
    },
  };
}
