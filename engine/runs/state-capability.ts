import type { Capability } from '../sandbox/capabilities.ts';
import type { StateStore } from '../store/state-store.ts';

/** `ctx.state.get/set/delete(key)`: JSON values kept per workflow across runs. */
export function createStateCapability(state: StateStore): Capability {
  return {
    get: async (scope, key) => state.get(scope.workflow.name, String(key)),
    set: async (scope, key, value) => {
      await state.set(scope.workflow.name, String(key), value);
      return null;
    },
    delete: async (scope, key) => state.delete(scope.workflow.name, String(key)),
  };
}
