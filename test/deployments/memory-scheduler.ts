import type { Deployment, DeploymentDefinition, DeploymentEndpoint, SchedulerDriver } from '../../engine/ports/scheduler.ts';
import { invalid, notFound, timeout } from '../../engine/domain/deployments/errors.ts';
import { normaliseScale } from '../../engine/domain/deployments/scale-request.ts';

export interface MemorySchedulerOptions {
  /** Offer `define`/`remove` (like the local driver). Default false. */
  define?: boolean;
  /**
   * How long a scale takes to roll out; meanwhile the deployment is 'progressing' with the
   * old ready count (capped at the new desired one). Default 0: rollouts are instant, which
   * is what the capability and route tests want. The contract run sets it so `waitReady`
   * has something to wait for.
   */
  rolloutMs?: number;
  /**
   * Give every instance an endpoint on 127.0.0.1 (port `basePort` + index, ready when the
   * instance is), as a real scheduler would. Default: endpoints are whatever the seed or
   * `setEndpoints` says.
   */
  endpointPerInstance?: { basePort: number };
}

interface Item {
  deployment: Deployment;
  /** Ready instances before the current rollout, and when it completes (epoch ms). */
  readyBefore: number;
  rolledOutAt: number;
}

export type MemoryScheduler = SchedulerDriver & { calls: string[]; setEndpoints(name: string, endpoints: Deployment['endpoints']): void };

/**
 * An in-memory SchedulerDriver for capability and route tests. It passes the same contract
 * suite as the real drivers (test/contract/scheduler.memory.test.ts); `calls` records what
 * reached it.
 */
export function createMemoryScheduler(seed: Array<Partial<Deployment> & { name: string }>, options: MemorySchedulerOptions = {}): MemoryScheduler {
  const items = new Map<string, Item>();
  /** What `define` was given, by name (define-capable only); `definition` answers it with the current instances. */
  const definitions = new Map<string, DeploymentDefinition>();
  const calls: string[] = [];
  const rolloutMs = options.rolloutMs ?? 0;
  const put = (d: Partial<Deployment> & { name: string }) => {
    const deployment: Deployment = {
      desiredInstances: 1,
      readyInstances: 1,
      labels: {},
      status: 'ready',
      endpoints: [],
      cpu: 1,
      memory: 512 * 1024 * 1024,
      image: `img/${d.name}`,
      ...d,
    };
    items.set(d.name, { deployment, readyBefore: deployment.readyInstances, rolledOutAt: 0 });
  };
  seed.forEach(put);

  /** The deployment as of now: a rollout in progress shows as 'progressing'. */
  const view = (item: Item): Deployment => {
    const d = structuredClone(item.deployment);
    if (Date.now() < item.rolledOutAt) {
      d.status = 'progressing';
      d.readyInstances = Math.min(item.readyBefore, d.desiredInstances);
    } else if (rolloutMs > 0) {
      d.status = 'ready';
      d.readyInstances = d.desiredInstances;
    }
    if (options.endpointPerInstance) d.endpoints = instanceEndpoints(options.endpointPerInstance.basePort, d);
    return d;
  };
  const find = (name: string): Item => {
    const item = items.get(name);
    if (!item) throw notFound({ driver: 'memory', deployment: name });
    return item;
  };
  const get = async (name: string) => view(find(name));

  return {
    kind: 'memory',
    calls,
    setEndpoints(name, endpoints) {
      items.get(name)!.deployment.endpoints = endpoints;
    },
    capabilities: { define: options.define ?? false, resources: true },
    list: async () => [...items.values()].map(view),
    get,
    async scale(name, req) {
      calls.push(`scale ${name} ${JSON.stringify(req)}`);
      const r = normaliseScale('memory', req, true);
      const item = find(name);
      const d = item.deployment;
      if (rolloutMs > 0) {
        item.readyBefore = view(item).readyInstances;
        item.rolledOutAt = Date.now() + rolloutMs;
      }
      if (r.instances !== undefined) d.desiredInstances = d.readyInstances = r.instances;
      if (r.cpu !== undefined) d.cpu = r.cpu;
      if (r.memory !== undefined) d.memory = r.memory;
      return get(name);
    },
    async waitReady(name, o) {
      calls.push(`waitReady ${name} ${o.timeoutMs} ${o.signal ? 'signal' : ''}`);
      o.signal?.throwIfAborted();
      const item = find(name);
      const deadline = Date.now() + o.timeoutMs;
      // A loop, not one pause: a timer may fire a millisecond before Date.now() reaches the
      // rollout's end (Node's timers run on a monotonic clock), which once returned 'progressing'.
      for (let remaining = item.rolledOutAt - Date.now(); remaining > 0; remaining = item.rolledOutAt - Date.now()) {
        if (Date.now() + remaining > deadline) {
          await pause(Math.max(0, deadline - Date.now()), o.signal);
          throw timeout({ driver: 'memory', deployment: name }, o.timeoutMs, `${view(item).readyInstances}/${item.deployment.desiredInstances} ready`);
        }
        await pause(remaining, o.signal);
      }
      return get(name);
    },
    ...(options.define
      ? {
          async define(name: string, def: DeploymentDefinition) {
            if (!def.command) throw invalid('memory', 'command is required');
            put({ name, command: def.command, desiredInstances: def.instances ?? 1, readyInstances: def.instances ?? 1 });
            definitions.set(name, structuredClone(def));
            return get(name);
          },
          async definition(name: string) {
            const def = definitions.get(name);
            const item = items.get(name);
            // A scale moves the instance count, as it does the local driver's stored definition.
            return def && item ? { ...structuredClone(def), instances: item.deployment.desiredInstances } : undefined;
          },
          async remove(name: string) {
            definitions.delete(name);
            return items.delete(name);
          },
        }
      : {}),
    async close() {},
  };
}

function instanceEndpoints(basePort: number, d: Deployment): DeploymentEndpoint[] {
  return Array.from({ length: d.desiredInstances }, (_, i) => ({ host: '127.0.0.1', port: basePort + i, ready: i < d.readyInstances, name: 'http' }));
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
