/**
 * What a workflow script sees as `ctx`, for the scripts we ship and for users who write
 * TypeScript. Scripts use `import type` only: types are erased at upload, and nothing can
 * be imported at run time.
 */
import type { GatewayMetrics } from '../engine/ports/metrics-store.ts';
import type { Deployment } from '../engine/ports/scheduler.ts';
import type { GatewayRecord as Gateway } from '../engine/domain/gateways/model.ts';
import type { ScriptContext } from '../engine/sandbox/script-api.ts';

export type { GatewayMetrics } from '../engine/ports/metrics-store.ts';
export type { Deployment } from '../engine/ports/scheduler.ts';
/** A gateway as scripts get it: the stored document plus its KV `revision`. */
export type { GatewayRecord as Gateway } from '../engine/domain/gateways/model.ts';

export interface Capabilities {
  state: { get<T = unknown>(key: string): Promise<T | undefined>; set(key: string, value: unknown): Promise<void>; delete(key: string): Promise<boolean> };
  gateways: {
    list(): Promise<Gateway[]>;
    get(name: string): Promise<Gateway>;
    /** Absolute percentages; only for gateways in `permissions.gateways`. */
    setWeights(name: string, weights: Record<string, number>): Promise<Gateway>;
    update(name: string, patch: Partial<Omit<Gateway, 'name' | 'revision'>>): Promise<Gateway>;
  };
  deployments: {
    list(): Promise<Deployment[]>;
    get(name: string): Promise<Deployment>;
    /** Within `permissions.deployments` bounds, or the run gets a PermissionError. */
    scale(name: string, request: { instances?: number; cpu?: number; memory?: string | number }): Promise<Deployment>;
    waitReady(name: string, options?: { timeoutMs?: number }): Promise<Deployment>;
  };
  events: {
    emit(event: { tags: string[]; type: string; value?: unknown }): Promise<{ id: string }>;
    query(filter: { tags?: string[]; type?: string; since?: string; limit?: number }): Promise<{ events: unknown[] }>;
  };
  metrics: { gateway(name: string, options?: { route?: string; window?: string; minSamples?: number }): Promise<GatewayMetrics> };
}

export type Ctx<Input = unknown> = ScriptContext<Input, Capabilities>;
