import type { Deployment, SchedulerDriver } from '../../engine/ports/scheduler.ts';
import { invalid, notFound } from '../../engine/domain/deployments/errors.ts';
import { normaliseScale } from '../../engine/domain/deployments/scale-request.ts';

/** An in-memory SchedulerDriver for capability and route tests (rollouts are instant). */
export function createMemoryScheduler(seed: Array<Partial<Deployment> & { name: string }>, options: { define?: boolean } = {}): SchedulerDriver & { calls: string[]; setEndpoints(name: string, endpoints: Deployment['endpoints']): void } {
  const items = new Map<string, Deployment>();
  const calls: string[] = [];
  const put = (d: Partial<Deployment> & { name: string }) =>
    items.set(d.name, { desiredInstances: 1, readyInstances: 1, labels: {}, status: 'ready', endpoints: [], cpu: 1, memory: 512 * 1024 * 1024, image: `img/${d.name}`, ...d });
  seed.forEach(put);
  const get = async (name: string) => {
    const d = items.get(name);
    if (!d) throw notFound({ driver: 'memory', deployment: name });
    return structuredClone(d);
  };
  return {
    kind: 'memory',
    calls,
    setEndpoints(name, endpoints) {
      items.get(name)!.endpoints = endpoints;
    },
    capabilities: { define: options.define ?? false, resources: true },
    list: async () => [...items.values()].map((d) => structuredClone(d)),
    get,
    async scale(name, req) {
      calls.push(`scale ${name} ${JSON.stringify(req)}`);
      const r = normaliseScale('memory', req, true);
      const d = items.get(name);
      if (!d) throw notFound({ driver: 'memory', deployment: name });
      if (r.instances !== undefined) d.desiredInstances = d.readyInstances = r.instances;
      if (r.cpu !== undefined) d.cpu = r.cpu;
      if (r.memory !== undefined) d.memory = r.memory;
      return get(name);
    },
    async waitReady(name, o) {
      calls.push(`waitReady ${name} ${o.timeoutMs} ${o.signal ? 'signal' : ''}`);
      return get(name);
    },
    ...(options.define
      ? {
          async define(name: string, def: { command: string; instances?: number }) {
            if (!def.command) throw invalid('memory', 'command is required');
            put({ name, command: def.command, desiredInstances: def.instances ?? 1, readyInstances: def.instances ?? 1 });
            return get(name);
          },
          async remove(name: string) {
            return items.delete(name);
          },
        }
      : {}),
    async close() {},
  };
}
