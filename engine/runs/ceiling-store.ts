import { clampLimits, isClamped, type LimitCeilings } from '../domain/ceilings.ts';
import type { Workflow } from '../domain/workflow.ts';
import type { WorkflowStore } from '../ports/workflow-store.ts';
import type { Logger } from '../shared/logger.ts';

/**
 * The workflow store as the run executor sees it: every version's `limits` held to the
 * operator's ceilings. Uploads over a ceiling are refused by the API, so this only bites
 * when a ceiling was lowered after a version was stored: its runs go on, within the new
 * ceiling, rather than being refused — the operator lowered it to protect the engine,
 * not to stop scheduled production workflows. The engine log says so once per version.
 */
export function holdToCeilings(store: WorkflowStore, ceilings: LimitCeilings, logger: Logger): WorkflowStore {
  const warned = new Set<string>();
  const hold = (wf: Workflow | undefined): Workflow | undefined => {
    if (!wf || !isClamped(wf.limits, ceilings)) return wf;
    const key = `${wf.name}@${wf.version}`;
    if (!warned.has(key) && warned.size < 10_000) {
      warned.add(key);
      logger.warn(
        { workflow: wf.name, version: wf.version, limits: wf.limits, ceilings },
        'workflow limits are over the operator ceilings; its runs are held to the ceilings',
      );
    }
    return { ...wf, limits: clampLimits(wf.limits, ceilings) };
  };
  return {
    put: (name, spec, compiled) => store.put(name, spec, compiled),
    versions: (name) => store.versions(name),
    delete: (name) => store.delete(name),
    deletedAt: (name) => store.deletedAt(name),
    setPaused: async (name, pause) => hold(await store.setPaused(name, pause))!,
    subscribe: (listener) => store.subscribe(listener),
    get: async (name) => hold(await store.get(name)),
    require: async (name) => hold(await store.require(name))!,
    getVersion: async (name, version) => hold(await store.getVersion(name, version)),
    list: async () => (await store.list()).map((wf) => hold(wf)!),
  };
}
