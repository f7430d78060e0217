import type { RunScope } from '../ports/sandbox-host.ts';
import type { Capabilities as ScriptCapabilities } from '../../workflows/types.ts';

// The sandbox's own (contract-free) types live with its port; re-exported for the capability files.
export type { Capabilities, RunScope } from '../ports/sandbox-host.ts';

/**
 * The host side of one method of the script contract (workflows/types.ts): the run's scope
 * first, then the script's arguments — as many as the contract names, typed `unknown` because
 * they come from untrusted code and must be validated — resolving to exactly what the contract
 * promises the script. A result that drifts from the contract is a type error here.
 */
type HostMethod<M> = M extends (...args: infer P) => Promise<infer R> ? (scope: RunScope, ...args: { [I in keyof P]: unknown }) => Promise<R> : never;

/** The host side of one contract capability, e.g. `HostCapability<GatewaysCapability>`. */
export type HostCapability<C> = { [M in keyof C]: HostMethod<C[M]> };

/** Every capability of the script contract, as the engine implements it. */
export type ContractCapabilities = { [K in keyof ScriptCapabilities]: HostCapability<ScriptCapabilities[K]> };
