import type { Capabilities as ScriptCapabilities } from '../../workflows/types.ts';

/**
 * The script contract's method names at run time. The contract itself (workflows/types.ts)
 * is types only, so nothing can enumerate it; this table is its runtime twin, and its type
 * makes a missing or an extra name a type error, so it cannot drift from the contract. Tests
 * use it to check that the engine's capabilities and the sandbox expose exactly these.
 */
type MethodTable = { readonly [K in keyof ScriptCapabilities]: { readonly [M in keyof ScriptCapabilities[K]]-?: true } };

const SCRIPT_CAPABILITY_METHODS: MethodTable = {
  state: { get: true, set: true, delete: true },
  gateways: { list: true, get: true, setWeights: true, update: true },
  deployments: { list: true, get: true, scale: true, waitReady: true },
  events: { emit: true, query: true },
  metrics: { gateway: true, prometheus: true },
  signals: { take: true },
  http: { fetch: true },
  secrets: { get: true },
};

/** `[capability, methods]` pairs of the contract, e.g. `['state', ['get', 'set', 'delete']]`. */
export function scriptCapabilityMethods(): Array<[string, string[]]> {
  return Object.entries(SCRIPT_CAPABILITY_METHODS).map(([name, methods]) => [name, Object.keys(methods)]);
}
