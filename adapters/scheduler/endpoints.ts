import type { SchedulerDriver } from '../../engine/ports/scheduler.ts';
import { delay } from '../../engine/shared/wait.ts';

/**
 * How gateways find where a deployment target (`{ deployment: 'shop-v2', port: 'http' }`)
 * lives. Endpoints of every driver are resolved the same way, by reading the deployment.
 */
export interface ResolvedEndpoint {
  host: string;
  port: number;
}

/**
 * The ready endpoints of a deployment, sorted for stable comparison. With `portName`, only
 * endpoints of that port name; endpoints without a name (single-port deployments) always
 * match. Local deployments name their one port 'http'.
 */
export async function resolveEndpoints(driver: SchedulerDriver, deployment: string, portName?: string): Promise<ResolvedEndpoint[]> {
  const d = await driver.get(deployment);
  return d.endpoints
    .filter((e) => e.ready && (!portName || e.name === undefined || e.name === portName))
    .map(({ host, port }) => ({ host, port }))
    .sort((a, b) => a.host.localeCompare(b.host) || a.port - b.port);
}

export interface WatchEndpointsOptions {
  portName?: string;
  /** Poll interval; default 1000 ms. Must be below the local driver's drain time (VEER_LOCAL_DRAIN_MS). */
  intervalMs?: number;
  signal: AbortSignal;
  /** Errors while reading (scheduler down); the last known endpoints stay in effect. */
  onError?: (err: unknown) => void;
}

/**
 * Calls `onChange` with the ready endpoints at the start and whenever they change, until the
 * signal aborts. A cheap poll (one `get` per interval) rather than a watch, so it works the
 * same for every driver; draining instances are marked not-ready `drainMs` before they stop,
 * which is what makes polling safe as long as the interval is shorter.
 */
export async function watchEndpoints(
  driver: SchedulerDriver,
  deployment: string,
  onChange: (endpoints: ResolvedEndpoint[]) => void | Promise<void>,
  options: WatchEndpointsOptions,
): Promise<void> {
  let last: string | undefined;
  while (!options.signal.aborted) {
    try {
      const eps = await resolveEndpoints(driver, deployment, options.portName);
      const key = JSON.stringify(eps);
      if (key !== last) {
        last = key;
        await onChange(eps);
      }
    } catch (err) {
      options.onError?.(err);
    }
    await delay(options.intervalMs ?? 1000, options.signal).catch(() => undefined);
  }
}

/**
 * The gateway agent's `resolveTargets` for `{ deployment, port }` routes: a string port is a
 * port name (local deployments: 'http'); a numeric port does not filter, since local ports
 * are assigned at start.
 */
export function createTargetResolver(driver: SchedulerDriver): (deployment: string, port: string | number) => Promise<ResolvedEndpoint[]> {
  return (deployment, port) => resolveEndpoints(driver, deployment, typeof port === 'string' ? port : undefined);
}

/**
 * One poll for every deployment: calls `onChange(names)` with the deployments whose ready
 * endpoints changed since the previous poll (all of them on the first). For the gateway
 * agent: re-resolve (reconcile) when it fires. One `list()` per interval, whatever the count.
 */
export async function watchAllEndpoints(
  driver: SchedulerDriver,
  onChange: (deployments: string[]) => void | Promise<void>,
  options: Omit<WatchEndpointsOptions, 'portName'>,
): Promise<void> {
  const last = new Map<string, string>();
  while (!options.signal.aborted) {
    try {
      const now = new Map(
        (await driver.list()).map((d) => [
          d.name,
          JSON.stringify(
            d.endpoints
              .filter((e) => e.ready)
              .map((e) => [e.host, e.port, e.name])
              .sort(),
          ),
        ]),
      );
      const changed = [...new Set([...now.keys(), ...last.keys()])].filter((n) => now.get(n) !== last.get(n));
      last.clear();
      now.forEach((v, k) => last.set(k, v));
      if (changed.length) await onChange(changed.sort());
    } catch (err) {
      options.onError?.(err);
    }
    await delay(options.intervalMs ?? 1000, options.signal).catch(() => undefined);
  }
}
