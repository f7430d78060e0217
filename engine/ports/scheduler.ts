import type { DryRunOutcome } from '../domain/dry-run-put.ts';

/**
 * SchedulerDriver: reads and scales deployments on whichever container scheduler runs them
 * (local processes, Kubernetes, Marathon, Rancher). Speaks Veer's language only.
 * Memory is always a number of BYTES in results; requests also accept Kubernetes-style
 * strings ('256Mi', '1G'), normalised by `parseMemory` (adapters/scheduler/quantity.ts).
 */
export type DeploymentStatus = 'ready' | 'progressing' | 'degraded' | 'unknown';

export interface DeploymentEndpoint {
  host: string;
  port: number;
  /** Only ready endpoints may receive traffic; gateways route to these. */
  ready: boolean;
  /** Port name when the scheduler names ports (k8s/Marathon); local deployments use 'http'. */
  name?: string;
}

export interface Deployment {
  name: string;
  desiredInstances: number;
  readyInstances: number;
  /** Cores per instance; absent when the scheduler does not set it (local). */
  cpu?: number;
  /** Bytes per instance; absent when not set. */
  memory?: number;
  /** Container image (k8s, Marathon) or the command line (local, Marathon `cmd`). */
  image?: string;
  command?: string;
  labels: Record<string, string>;
  /** Free-form notes (local deployments: as defined; other schedulers leave it out). */
  annotations?: Record<string, string>;
  /** 'ready': desired == ready and the rollout is complete; 'degraded': stuck or crash-looping. */
  status: DeploymentStatus;
  endpoints: DeploymentEndpoint[];
}

export interface ScaleRequest {
  instances?: number;
  cpu?: number;
  memory?: number | string;
}

export interface WaitReadyOptions {
  /** Required bound; `SCHEDULER.TIMEOUT` when it passes first. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** What `define` accepts (only drivers with `capabilities.define`: local). */
export interface DeploymentDefinition {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  instances?: number;
  /** HTTP path probed for readiness (GET, 2xx = ready); absent: a TCP connect suffices. */
  healthCheck?: string;
  cwd?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface SchedulerDriver {
  /** 'local' | 'kubernetes' | 'marathon' | 'rancher', used in messages. */
  readonly kind: string;
  readonly capabilities: {
    /** Can create/replace/remove deployments (`define`, `remove`). Only local. */
    define: boolean;
    /** Can change cpu/memory per instance; without it such scale requests fail with SCHEDULER.INVALID. */
    resources: boolean;
  };
  list(): Promise<Deployment[]>;
  /** Throws SCHEDULER.NOT_FOUND for an unknown name. */
  get(name: string): Promise<Deployment>;
  /** Requests a change; resolves with the deployment once the scheduler accepted it (not when ready). */
  scale(name: string, request: ScaleRequest): Promise<Deployment>;
  /** Resolves with the deployment once its rollout is complete and all instances are ready. */
  waitReady(name: string, options: WaitReadyOptions): Promise<Deployment>;
  /** Creates or replaces a deployment (capabilities.define). */
  define?(name: string, definition: DeploymentDefinition): Promise<Deployment>;
  /**
   * What `define` would do, with the same checks, writing nothing: `unchanged` when the stored
   * definition (instances included) already equals it; the deployment as `get` would answer after (capabilities.define).
   */
  planDefine?(name: string, definition: DeploymentDefinition): Promise<{ outcome: DryRunOutcome; deployment: Deployment }>;
  /**
   * The stored definition as `define` accepted it (defaults filled in), `instances` being the
   * desired count now (a scale changes it): what PUT takes back as unchanged. Undefined for an
   * unknown name (capabilities.define). Holds `env`, so the API serves it to admins only.
   */
  definition?(name: string): Promise<DeploymentDefinition | undefined>;
  /** Removes a deployment, draining its instances; returns whether it existed (capabilities.define). */
  remove?(name: string): Promise<boolean>;
  close(): Promise<void>;
}
