import type { StateCapability } from '../../workflows/types.ts';
import type { StateStore } from '../ports/state-store.ts';
import type { HostCapability } from '../sandbox/capabilities.ts';

/** `ctx.state.get/set/delete(key)`: JSON values kept per workflow across runs. */
export function createStateCapability(state: StateStore): HostCapability<StateCapability> {
  return {
    get: async (scope, key) => state.get(scope.workflow.name, String(key)),
    set: async (scope, key, value) => {
      await state.set(scope.workflow.name, String(key), value);
      return null;
    },
    // The store answers whether the key existed, and scripts get that boolean.
    delete: async (scope, key) => state.delete(scope.workflow.name, String(key)),
  };
}
