import type { GatewaysCapability } from '../../workflows/types.ts';
import type { EmitEvent } from '../domain/emit.ts';
import type { HostCapability, RunScope } from '../sandbox/capabilities.ts';
import { PermissionError, ValidationError } from '../shared/errors.ts';
import type { GatewayPatch, GatewayService } from './service.ts';
import { describeWeightChange } from '../domain/gateways/weights.ts';
import { weightsOf } from '../domain/gateways/model.ts';
import { globMatches } from '../domain/glob.ts';

// Re-exported for its tests and callers that checked gateway permissions by name.
export { globMatches };

/** The gateway a script named; shared with the dry-run layer. */
export function requireGatewayName(value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new ValidationError('gateways: expected a gateway name (string) as the first argument', [{ path: 'name', message: 'expected a string' }]);
  return value;
}

/** Refuses a change of a gateway outside `permissions.gateways` (PermissionError); dry runs check with it too. */
export function mayChangeGateway(scope: RunScope, name: string): void {
  const allowed = scope.workflow.permissions.gateways ?? [];
  if (allowed.some((p) => globMatches(p, name))) return;
  throw new PermissionError(
    `workflow '${scope.workflow.name}' may not change gateway '${name}': add "${name}" (or a glob matching it) to permissions.gateways` +
      (allowed.length ? ` (it currently allows: ${allowed.join(', ')})` : ' (it currently allows none)'),
    { gateway: name, permission: 'permissions.gateways', allowed },
  );
}

interface GatewaysCapabilityOptions {
  /** Publishes Veer's own events (`gateway.rolled_back`); the gateway service's change emitter. */
  emit?: EmitEvent;
}

/** `options.rollback` of setWeights; the schema at the host boundary already checked its shape. */
function rollbackOf(options: unknown): { cause?: string; reason?: string } | undefined {
  const r = (options as { rollback?: unknown } | null | undefined)?.rollback;
  if (typeof r !== 'object' || r === null) return undefined;
  const { cause, reason } = r as { cause?: unknown; reason?: unknown };
  return { ...(typeof cause === 'string' ? { cause } : {}), ...(typeof reason === 'string' ? { reason } : {}) };
}

const sameWeights = (a: Record<string, number>, b: Record<string, number>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([r, w]) => b[r] === w);

/**
 * `ctx.gateways.*` for workflow scripts. Reads are open; changes need the gateway in the
 * workflow's `permissions.gateways`, and each change is written to the run's log with the
 * weights before and after; a setWeights marked `rollback` that changed them also emits
 * `gateway.rolled_back` (through `options.emit`).
 */
export function createGatewaysCapability(service: GatewayService, options: GatewaysCapabilityOptions = {}): HostCapability<GatewaysCapability> {
  /** A rollback that changed nothing (the weights were already back) is no event: rollback hooks fire for every alert. */
  const rolledBack = async (
    scope: RunScope,
    name: string,
    before: Record<string, number>,
    after: Record<string, number>,
    rollback: { cause?: string; reason?: string },
  ) => {
    if (!options.emit || sameWeights(before, after)) return;
    try {
      await options.emit({
        tags: ['gateways', `gateways:${name}`],
        type: 'gateway.rolled_back',
        value: {
          gateway: name,
          before,
          after,
          runId: scope.runId,
          workflow: scope.workflow.name,
          cause: rollback.cause ?? null,
          reason: rollback.reason ?? null,
        },
        hops: scope.hops,
      });
    } catch (err) {
      // The weights already changed; failing the call would make the script roll back again.
      scope.log('warn', `gateway ${name} was rolled back but the gateway.rolled_back event could not be published: ${(err as Error).message}`);
    }
  };

  return {
    list: async () => service.list(),
    get: async (_scope, name) => service.get(requireGatewayName(name)),
    setWeights: async (scope, nameArg, weights, setOptions) => {
      const name = requireGatewayName(nameArg);
      mayChangeGateway(scope, name);
      const result = await service.setWeights(name, weights as Record<string, number>);
      const { before, ...gateway } = result;
      const after = weightsOf(gateway);
      scope.log('info', `gateway ${name}: weights ${describeWeightChange(before, after)}`, { gateway: name, before, after, revision: gateway.revision });
      const rollback = rollbackOf(setOptions);
      if (rollback) await rolledBack(scope, name, before, after, rollback);
      return gateway;
    },
    update: async (scope, nameArg, patch) => {
      const name = requireGatewayName(nameArg);
      mayChangeGateway(scope, name);
      const before = weightsOf(await service.get(name));
      const gateway = await service.update(name, patch as GatewayPatch);
      const after = weightsOf(gateway);
      scope.log('info', `gateway ${name}: updated; weights ${describeWeightChange(before, after)}`, {
        gateway: name,
        before,
        after,
        revision: gateway.revision,
      });
      return gateway;
    },
  };
}
