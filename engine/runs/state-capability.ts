import type { StateCapability } from '../../workflows/types.ts';
import type { StateStore } from '../ports/state-store.ts';
import type { HostCapability } from '../sandbox/capabilities.ts';
import { ValidationError } from '../shared/errors.ts';

/** Keys are strings (a number is its decimal text; dry runs key their overlay alike); anything else is a mistake to report, not to coerce: `String({})` is one key for every object. */
export function stateKeyOf(key: unknown): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' && Number.isFinite(key)) return String(key);
  throw new ValidationError('ctx.state: the key must be a string', [{ path: 'key', message: 'expected a string' }]);
}

/** `ctx.state.get/set/delete(key)`: JSON values kept per workflow across runs. */
export function createStateCapability(state: StateStore): HostCapability<StateCapability> {
  return {
    get: async (scope, key) => state.get(scope.workflow.name, stateKeyOf(key)),
    set: async (scope, key, value) => {
      // State is shown by the API (GET …/state): a secret the run read is stored as `***`.
      await state.set(scope.workflow.name, stateKeyOf(key), scope.secrets ? scope.secrets.redact(value) : value);
      return null;
    },
    // The store answers whether the key existed, and scripts get that boolean.
    delete: async (scope, key) => state.delete(scope.workflow.name, stateKeyOf(key)),
  };
}
