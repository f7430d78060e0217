import type { DeploymentsCapability, GatewaysCapability } from '../../workflows/types.ts';
import { normaliseScale } from '../domain/deployments/scale-request.ts';
import { memoryBytes } from '../domain/deployments/quantity.ts';
import { weightsOf, type GatewayRecord } from '../domain/gateways/model.ts';
import { checkScale, scaleSnapshot } from '../deployments/capability.ts';
import { mayChangeGateway, requireGatewayName } from '../gateways/capability.ts';
import type { GatewayService } from '../gateways/service.ts';
import type { Deployment, SchedulerDriver } from '../ports/scheduler.ts';
import type { Capability } from '../ports/sandbox-host.ts';
import type { HostCapability, RunScope } from '../sandbox/capabilities.ts';
import type { RecordEffect } from './dry-run-effects.ts';

/** Plans gateway changes with the service's own checks, writing nothing. */
export type GatewayPlanner = Pick<GatewayService, 'planWeights' | 'planUpdate'>;
/** The driver's name and abilities, for its own checks of a scale request (cpu/memory where it cannot set them). */
export type DriverAbilities = Pick<SchedulerDriver, 'kind' | 'capabilities'>;

/**
 * `ctx.gateways` of a dry run: reads are real, changes are planned by the gateway service
 * (weights must add up, routes must exist, permissions.gateways must allow it) and kept in a
 * per-run overlay, so the script reads back what it would have written.
 */
export function dryGateways(real: Capability, planner: GatewayPlanner, record: RecordEffect): HostCapability<GatewaysCapability> {
  const planned = new Map<string, GatewayRecord>();
  const current = async (scope: RunScope, name: string) => planned.get(name) ?? ((await real.get(scope, name)) as GatewayRecord);
  const change = async (scope: RunScope, capability: string, nameArg: unknown, plan: (name: string, base: GatewayRecord) => Promise<GatewayRecord>) => {
    const name = requireGatewayName(nameArg);
    mayChangeGateway(scope, name);
    const before = await current(scope, name);
    const next = await plan(name, before);
    planned.set(name, next);
    record(scope, { capability, target: name, before: weightsOf(before), after: weightsOf(next) });
    return next;
  };
  return {
    list: async (scope) => ((await real.list(scope)) as GatewayRecord[]).map((g) => planned.get(g.name) ?? g),
    get: async (scope, name) => current(scope, requireGatewayName(name)),
    // A rollback option changes nothing here: a dry run emits no gateway.rolled_back; the effect is the weights.
    setWeights: (scope, name, weights) =>
      change(scope, 'gateways.setWeights', name, (n, base) => planner.planWeights(n, weights as Record<string, number>, base)),
    update: (scope, name, patch) => change(scope, 'gateways.update', name, (n, base) => planner.planUpdate(n, patch as Record<string, unknown>, base)),
  };
}

/**
 * `ctx.deployments` of a dry run: reads are real, a scale is checked as the real one is
 * (permissions.deployments and its bounds, the request, the driver's abilities) and kept in a
 * per-run overlay; `waitReady` answers the (planned) deployment at once, since nothing rolls out.
 */
export function dryDeployments(real: Capability, driver: DriverAbilities | undefined, record: RecordEffect): HostCapability<DeploymentsCapability> {
  const planned = new Map<string, Deployment>();
  const current = async (scope: RunScope, name: unknown) =>
    (typeof name === 'string' ? planned.get(name) : undefined) ?? ((await real.get(scope, name)) as Deployment);
  return {
    list: async (scope) => ((await real.list(scope)) as Deployment[]).map((d) => planned.get(d.name) ?? d),
    get: current,
    async scale(scope, nameArg, requestArg) {
      const { name, request } = checkScale(scope, nameArg, requestArg);
      const wanted = driver
        ? normaliseScale(driver.kind, request, driver.capabilities.resources)
        : { ...request, memory: request.memory === undefined ? undefined : memoryBytes(request.memory) };
      const before = await current(scope, name);
      const next: Deployment = {
        ...before,
        desiredInstances: wanted.instances ?? before.desiredInstances,
        ...(wanted.cpu !== undefined ? { cpu: wanted.cpu } : {}),
        ...(wanted.memory !== undefined ? { memory: wanted.memory } : {}),
      };
      planned.set(name, next);
      record(scope, { capability: 'deployments.scale', target: name, before: scaleSnapshot(before), after: scaleSnapshot(next) });
      return next;
    },
    waitReady: (scope, name) => current(scope, name),
  };
}
