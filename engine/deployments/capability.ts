import { z } from 'zod';
import type { Deployment, SchedulerDriver } from '../ports/scheduler.ts';
import { ScaleRequestSchema } from '../domain/deployments/scale-request.ts';
import { memoryBytes } from '../domain/deployments/quantity.ts';
import { NameSchema } from '../domain/workflow.ts';
import type { DeploymentsCapability } from '../../workflows/types.ts';
import type { HostCapability, RunScope } from '../sandbox/capabilities.ts';
import { PermissionError, ValidationError, VeerError } from '../shared/errors.ts';
import { validationErrorFromZod } from '../shared/issues.ts';
import { grantFor } from './permissions.ts';

/**
 * `ctx.deployments` for scripts: read any deployment, scale only those the workflow's
 * `permissions.deployments` lists, within their instance bounds. A request outside the bounds
 * is refused (never clamped: a script asking for 50 and silently getting 10 would make wrong
 * decisions). Every scale is written to the run log and emitted as a `deployment.scaled` event.
 */
export interface DeploymentsCapabilityOptions {
  scheduler: SchedulerDriver;
  /** Publishes an event (the event bus's emit). Optional so the capability works without events. */
  emit?: (event: { tags: string[]; type: string; value: unknown }) => unknown;
}

export interface ScaleSnapshot {
  instances: number;
  cpu?: number;
  memory?: number;
}

const WaitOptionsSchema = z.object({ timeoutMs: z.number().int().positive().optional() }).strict().default({});

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw validationErrorFromZod(r.error, { prefix: what, title: 'ctx.deployments' });
  return r.data;
}

/** What a scale changes of a deployment, as run logs, events and dry-run effects show it. */
export const scaleSnapshot = (d: Deployment): ScaleSnapshot => ({
  instances: d.desiredInstances,
  ...(d.cpu !== undefined ? { cpu: d.cpu } : {}),
  ...(d.memory !== undefined ? { memory: d.memory } : {}),
});

function authorize(scope: RunScope, name: string, instances: number | undefined): void {
  const wf = scope.workflow.name;
  const grant = grantFor(scope.workflow.permissions.deployments, name);
  if (!grant) {
    throw new PermissionError(
      `workflow '${wf}' may not scale deployment '${name}': add it (or a glob matching it) to permissions.deployments, e.g. "${name}": { "minInstances": 1, "maxInstances": 5 }`,
      { workflow: wf, deployment: name },
    );
  }
  if (instances !== undefined && (instances < grant.minInstances || instances > grant.maxInstances)) {
    throw new PermissionError(
      `workflow '${wf}' asked for ${instances} instances of deployment '${name}', outside its permitted ${grant.minInstances}..${grant.maxInstances} (permissions.deployments['${grant.pattern}'])`,
      { workflow: wf, deployment: name, requested: instances, ...grant },
    );
  }
}

/**
 * The checks of a scale before anything is asked of the scheduler: the name, the request's
 * shape, the workflow's permission and bounds, the memory quantity. Dry runs plan with it, so
 * they are refused exactly where the real call would be.
 */
export function checkScale(scope: RunScope, name: unknown, request: unknown): { name: string; request: z.output<typeof ScaleRequestSchema> } {
  const n = parse(NameSchema, name, 'name');
  const req = parse(ScaleRequestSchema, request, 'request');
  authorize(scope, n, req.instances);
  if (req.memory !== undefined && memoryBytes(req.memory) === undefined) {
    throw new ValidationError(`ctx.deployments.scale: memory ${JSON.stringify(req.memory)} is not bytes or a quantity like '256Mi'`, [
      { path: 'request.memory', message: 'invalid quantity' },
    ]);
  }
  return { name: n, request: req };
}

export function createDeploymentsCapability(options: DeploymentsCapabilityOptions): HostCapability<DeploymentsCapability> {
  const { scheduler } = options;

  return {
    async list() {
      return scheduler.list();
    },
    async get(_scope, name) {
      return scheduler.get(parse(NameSchema, name, 'name'));
    },
    async scale(scope, name, request) {
      const { name: n, request: req } = checkScale(scope, name, request);
      const before = scaleSnapshot(await scheduler.get(n));
      const afterDeployment = await scheduler.scale(n, req);
      const after = scaleSnapshot(afterDeployment);
      const changes = (['instances', 'cpu', 'memory'] as const)
        .filter((k) => before[k] !== after[k])
        .map((k) => `${k} ${before[k] ?? '-'} → ${after[k] ?? '-'}`);
      scope.log('info', `deployment '${n}' scaled${changes.length ? ': ' + changes.join(', ') : ' (no change)'}`, { deployment: n, before, after });
      if (options.emit) {
        try {
          await options.emit({
            tags: ['deployments', `deployments:${n}`],
            type: 'deployment.scaled',
            value: { deployment: n, before, after, runId: scope.runId, workflow: scope.workflow.name },
          });
        } catch (err) {
          // The scale already happened; failing the call would make the script retry it.
          scope.log('warn', `deployment '${n}' was scaled but the deployment.scaled event could not be published: ${(err as Error).message}`);
        }
      }
      return afterDeployment;
    },
    async waitReady(scope, name, opts) {
      const n = parse(NameSchema, name, 'name');
      const o = parse(WaitOptionsSchema, opts ?? {}, 'options');
      const left = scope.deadline - Date.now();
      if (left <= 0) throw new VeerError('SCHEDULER.TIMEOUT', `waitReady('${n}'): the run's deadline has already passed`, { retryable: true });
      // Bounded by the run: a script cannot wait past its own deadline.
      return scheduler.waitReady(n, { timeoutMs: Math.min(o.timeoutMs ?? left, left), signal: scope.signal });
    },
  };
}
