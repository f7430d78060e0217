import type { GatewaysCapability } from '../../workflows/types.ts';
import type { HostCapability, RunScope } from '../sandbox/capabilities.ts';
import { PermissionError, ValidationError } from '../shared/errors.ts';
import type { GatewayPatch, GatewayService } from './service.ts';
import { describeWeightChange } from '../domain/gateways/weights.ts';
import { weightsOf } from '../domain/gateways/model.ts';
import { globMatches } from '../domain/glob.ts';

// Re-exported for its tests and callers that checked gateway permissions by name.
export { globMatches };

function requireName(value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new ValidationError('gateways: expected a gateway name (string) as the first argument', [{ path: 'name', message: 'expected a string' }]);
  return value;
}

function mayChange(scope: RunScope, name: string): void {
  const allowed = scope.workflow.permissions.gateways ?? [];
  if (allowed.some((p) => globMatches(p, name))) return;
  throw new PermissionError(
    `workflow '${scope.workflow.name}' may not change gateway '${name}': add "${name}" (or a glob matching it) to permissions.gateways` +
      (allowed.length ? ` (it currently allows: ${allowed.join(', ')})` : ' (it currently allows none)'),
    { gateway: name, permission: 'permissions.gateways', allowed },
  );
}

/**
 * `ctx.gateways.*` for workflow scripts. Reads are open; changes need the gateway in the
 * workflow's `permissions.gateways`, and each change is written to the run's log with the
 * weights before and after.
 */
export function createGatewaysCapability(service: GatewayService): HostCapability<GatewaysCapability> {
  return {
    list: async () => service.list(),
    get: async (_scope, name) => service.get(requireName(name)),
    setWeights: async (scope, nameArg, weights) => {
      const name = requireName(nameArg);
      mayChange(scope, name);
      const result = await service.setWeights(name, weights as Record<string, number>);
      const { before, ...gateway } = result;
      const after = weightsOf(gateway);
      scope.log('info', `gateway ${name}: weights ${describeWeightChange(before, after)}`, { gateway: name, before, after, revision: gateway.revision });
      return gateway;
    },
    update: async (scope, nameArg, patch) => {
      const name = requireName(nameArg);
      mayChange(scope, name);
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
