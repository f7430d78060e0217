import assert from 'node:assert/strict';
import type { ScriptLog, StateCapability } from '../../workflows/types.ts';

/** Pieces of a fake `ctx` the built-in workflows' unit tests share (not a test file itself). */

/** JSON round trip, as every value crossing the sandbox boundary makes. */
export const jsonCopy = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** `ctx.state` over a Map, holding the script to the 64 KiB value limit and to JSON copies. */
export function fakeState(state: Map<string, unknown>): StateCapability {
  return {
    get: async (key: string) => jsonCopy(state.get(key)) as any,
    set: async (key: string, value: unknown) => {
      const text = JSON.stringify(value);
      assert.ok(text.length <= 64 * 1024, `state ${key} is ${text.length} bytes, over 64 KiB`);
      state.set(key, JSON.parse(text));
      return null;
    },
    delete: async (key: string) => state.delete(key),
  };
}

export interface LoggedLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** `ctx.log` writing into `logs`. */
export function fakeLog(logs: LoggedLine[]): ScriptLog {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void logs.push({ level, message, ...(fields ? { fields } : {}) });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
