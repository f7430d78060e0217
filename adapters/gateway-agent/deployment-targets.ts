import type { SchedulerDriver } from '../../engine/ports/scheduler.ts';
import type { ResolveTargets } from './agent-context.ts';

/**
 * Resolves a route's `{ deployment, port }` targets to the deployment's READY endpoints via
 * the scheduler driver. A string port matches the endpoint's port name (local deployments
 * name theirs 'http'; when the scheduler names no ports at all, every ready endpoint
 * matches); a number matches the port itself. An unknown deployment resolves to no servers.
 */
export function createSchedulerTargetResolver(scheduler: Pick<SchedulerDriver, 'get'>): ResolveTargets {
  return async (deployment, port) => {
    let endpoints;
    try {
      endpoints = (await scheduler.get(deployment)).endpoints.filter((e) => e.ready);
    } catch (err) {
      if ((err as { code?: string }).code === 'SCHEDULER.NOT_FOUND') return [];
      throw err;
    }
    const named = endpoints.some((e) => e.name !== undefined);
    const matching = endpoints.filter((e) => (typeof port === 'number' ? e.port === port : !named || e.name === port));
    return matching.map((e) => ({ host: e.host, port: e.port }));
  };
}
