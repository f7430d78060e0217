import type { EmitEvent } from '../domain/emit.ts';
import type { Signal, SignalInput } from '../domain/signal.ts';
import { startsOnSignal } from '../domain/workflow.ts';
import type { SignalStore } from '../ports/signal-store.ts';
import type { WorkflowStore } from '../ports/workflow-store.ts';
import { ConflictError, VeerError } from '../shared/errors.ts';
import type { RunLauncher, StartRunResult } from './launcher.ts';

export interface SignalService {
  /**
   * Stores the signal in the workflow's inbox, announces it (`workflow.signal`) and, when the
   * workflow's trigger has `signals: true`, starts a run at once. Throws NOT_FOUND for an
   * unknown workflow and WORKFLOW.DELETED (409) for a deleted one (also when it was deleted
   * while the signal was being stored).
   */
  send(workflow: string, input: SignalInput, sentBy: string): Promise<{ signal: Signal; start?: StartRunResult }>;
}

export function createSignalService(o: { workflows: WorkflowStore; signals: SignalStore; launcher: RunLauncher; emit: EmitEvent }): SignalService {
  async function gone(name: string): Promise<never> {
    const at = await o.workflows.deletedAt(name);
    if (at)
      throw new VeerError('WORKFLOW.DELETED', `workflow '${name}' was deleted at ${at}; its signals were deleted with it`, {
        details: { workflow: name, deletedAt: at },
      });
    return o.workflows.require(name).then(() => {
      throw new ConflictError(`workflow '${name}' changed while the signal was stored; send it again`, { workflow: name });
    });
  }

  return {
    async send(name, input, sentBy) {
      const wf = (await o.workflows.get(name)) ?? (await gone(name));
      const signal = (await o.signals.send(name, { name: input.name, value: input.value ?? null, sentBy })) ?? (await gone(name));
      // The value stays in the inbox: other workflows may read this event, and a value may carry what only this workflow should see.
      await o.emit({
        tags: ['workflows', `workflows:${name}`, 'signals'],
        type: 'workflow.signal',
        value: { workflow: name, signal: { id: signal.id, name: signal.name, sentBy, sentAt: signal.sentAt } },
      });
      if (!startsOnSignal(wf.trigger)) return { signal };
      const start = await o.launcher.start(name, { trigger: { type: 'signal', signalId: signal.id, name: signal.name }, dedupeKey: `signal:${signal.id}` });
      return { signal, start };
    },
  };
}
