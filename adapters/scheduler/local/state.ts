import { createHash } from 'node:crypto';
import type { Deployment, DeploymentDefinition, DeploymentStatus } from '../../../engine/ports/scheduler.ts';
import type { DeploymentDefinitionSpec } from '../../../engine/domain/deployments/definition.ts';

/**
 * The Redis-held state shared by the local driver (any process) and the one supervisor
 * (keys: adapters/redis/keys.ts `localSchedulerKeys`).
 * Desired: hash `<prefix>:desired`, field = deployment name, value = DesiredRecord JSON.
 * Observed: string `<prefix>:observed:<name>` = ObservedRecord JSON, written by the supervisor.
 * Lease: string `<prefix>:supervisor` = supervisor id, with a TTL, held by the active supervisor.
 * Channels: `<prefix>:desired-changed` and `<prefix>:observed-changed`, message = name.
 */

export interface DesiredRecord {
  /** Bumped on every define and scale; the supervisor echoes the one it acted on. */
  generation: number;
  instances: number;
  /** The definition as a JSON string, kept opaque so the Lua scale script never re-encodes it. */
  spec: string;
  /** Annotations as a JSON string, beside the spec so that changing them restarts no instance; absent before they existed. */
  annotations?: string;
}

export type InstanceState = 'starting' | 'ready' | 'unready' | 'draining' | 'crashed';

export interface ObservedInstance {
  id: string;
  pid?: number;
  /** The process's start time (/proc), so a successor supervisor adopts only that very process. */
  procStart?: string;
  port: number;
  state: InstanceState;
  ready: boolean;
  restarts: number;
  template: string;
  startedAt: string;
  lastExit?: string;
}

export interface ObservedRecord {
  /** The supervisor that wrote it: a supervisor stepping down hands over what its successor lists. */
  supervisor?: string;
  generation: number;
  instances: ObservedInstance[];
  updatedAt: string;
}

export const templateOf = (spec: string) => createHash('sha1').update(spec).digest('hex').slice(0, 12);

/** Crash-looping: an instance of the current template restarted this often without becoming ready. */
const DEGRADED_RESTARTS = 2;

export function statusOf(desired: DesiredRecord, observed: ObservedRecord | undefined): DeploymentStatus {
  if (!observed) return 'unknown';
  if (observed.generation < desired.generation) return 'progressing';
  const template = templateOf(desired.spec);
  const current = observed.instances.filter((i) => i.template === template && i.state !== 'draining');
  const readyCurrent = current.filter((i) => i.ready).length;
  if (readyCurrent === desired.instances && observed.instances.length === desired.instances) return 'ready';
  if (current.some((i) => i.state === 'crashed' && i.restarts >= DEGRADED_RESTARTS)) return 'degraded';
  return 'progressing';
}

export function toDeployment(name: string, desired: DesiredRecord, observed: ObservedRecord | undefined): Deployment {
  const spec = JSON.parse(desired.spec) as DeploymentDefinitionSpec;
  const instances = observed?.instances ?? [];
  return {
    name,
    desiredInstances: desired.instances,
    readyInstances: instances.filter((i) => i.ready).length,
    command: [spec.command, ...spec.args].join(' '),
    labels: spec.labels,
    annotations: desired.annotations ? (JSON.parse(desired.annotations) as Record<string, string>) : {},
    status: statusOf(desired, observed),
    endpoints: instances.map((i) => ({ host: '127.0.0.1', port: i.port, ready: i.ready, name: 'http' })),
  };
}

/**
 * The definition a desired record stands for, in the shape `define` takes: the stored spec,
 * the current instance count (scales rewrite only that) and the annotations kept beside it.
 */
export function definitionOf(desired: DesiredRecord): DeploymentDefinition {
  const spec = JSON.parse(desired.spec) as DeploymentDefinitionSpec;
  const annotations = desired.annotations ? (JSON.parse(desired.annotations) as Record<string, string>) : {};
  return { ...spec, instances: desired.instances, annotations };
}
