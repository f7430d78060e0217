/**
 * What a workflow script sees as `ctx`, for the scripts we ship and for users who write
 * TypeScript. Scripts use `import type` only: types are erased at upload, and nothing can
 * be imported at run time.
 */
import type { ScriptContext } from '../engine/sandbox/script-api.ts';

export interface Route {
  weight: number;
  condition?: string;
  conditionStrength: number;
  targets: Array<{ host: string; port: number }> | { deployment: string; port: string | number };
}
export interface Gateway {
  name: string;
  port: number;
  routes: Record<string, Route>;
  revision: string;
}
export interface GatewayMetrics {
  requests: number;
  /** Requests per second over the window. */
  rate: number;
  errors: number;
  /** 0..1; null when there were no requests. */
  errorRate: number | null;
  latency: { avg: number | null; p50: number | null; p95: number | null; p99: number | null };
  samples: number;
  /** Too few samples to judge: neither pass nor fail. */
  noData: boolean;
}
export interface Deployment {
  name: string;
  desiredInstances: number;
  readyInstances: number;
  cpu?: number;
  memory?: number;
  status: string;
  endpoints: Array<{ host: string; port: number; ready: boolean }>;
}

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
