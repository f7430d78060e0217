import type { SecretsCapability } from '../../workflows/types.ts';
import { globMatches } from '../domain/glob.ts';
import type { HostCapability } from '../sandbox/capabilities.ts';
import { NotFoundError, PermissionError } from '../shared/errors.ts';
import type { SecretService } from './secret-service.ts';

/**
 * `ctx.secrets.get(name)`: a secret named (or matched by a glob) in `permissions.secrets`.
 * The value is registered with the run's redactor before the script sees it, so wherever it
 * shows up afterwards — log, result, error, events, state — `***` is written instead.
 */
export function createSecretsCapability(secrets: Pick<SecretService, 'reveal'>): HostCapability<SecretsCapability> {
  return {
    get: async (scope, name) => {
      const n = String(name);
      const granted = scope.workflow.permissions.secrets ?? [];
      if (!granted.some((g) => globMatches(g, n))) {
        throw new PermissionError(
          `workflow '${scope.workflow.name}' may not read secret '${n}': add it to permissions.secrets (granted: ${granted.length ? granted.join(', ') : 'none'})`,
          { secret: n, granted },
        );
      }
      const value = await secrets.reveal(n);
      if (value === undefined) throw new NotFoundError('secret', n);
      scope.secrets?.add(value);
      scope.log('debug', `read secret '${n}'`);
      return value;
    },
  };
}
