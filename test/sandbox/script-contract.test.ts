import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Ctx, Deployment, Gateway, GatewayMetrics, RunTrigger, Signal, VeerEvent } from '../../workflows/types.ts';
import type { Deployment as PortDeployment } from '../../engine/ports/scheduler.ts';
import type { GatewayMetrics as PortGatewayMetrics, GatewayMetricsStore } from '../../engine/ports/metrics-store.ts';
import type { SandboxContextData, SandboxHost } from '../../engine/ports/sandbox-host.ts';
import type { SignalStore } from '../../engine/ports/signal-store.ts';
import type { StateStore } from '../../engine/ports/state-store.ts';
import type { GatewayRecord } from '../../engine/domain/gateways/model.ts';
import type { VeerEvent as DomainEvent } from '../../engine/domain/event.ts';
import type { Signal as DomainSignal } from '../../engine/domain/signal.ts';
import type { RunTrigger as DomainRunTrigger } from '../../engine/domain/run.ts';
import type { Workflow } from '../../engine/domain/workflow.ts';
import type { EventBus } from '../../engine/events/bus.ts';
import { createDeploymentsCapability } from '../../engine/deployments/capability.ts';
import { createEventsCapability } from '../../engine/events/events-capability.ts';
import { createMetricsCapability } from '../../engine/events/metrics-capability.ts';
import { createGatewaysCapability } from '../../engine/gateways/capability.ts';
import { createGatewayService } from '../../engine/gateways/service.ts';
import { createSecretsCapability } from '../../engine/connect/secrets-capability.ts';
import { createHttpCapability } from '../../engine/connect/http-fetch.ts';
import { createSignalsCapability } from '../../engine/runs/signals-capability.ts';
import { createStateCapability } from '../../engine/runs/state-capability.ts';
import type { ContractCapabilities } from '../../engine/sandbox/capabilities.ts';
import { createIsolatedSandbox } from '../../engine/sandbox/isolated-host.ts';
import { RESERVED_CTX_NAMES } from '../../engine/sandbox/protocol.ts';
import { scriptCapabilityMethods } from '../../engine/sandbox/script-api.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { createMemoryScheduler } from '../deployments/memory-scheduler.ts';
import { createMemoryKv } from '../gateways/memory-kv.ts';
import { resultOf, runScript } from './fixtures.ts';

/**
 * The script contract (workflows/types.ts) and the engine must not drift. The engine's capability
 * factories are typed against the contract, so most drift is already a type error in their own
 * files; this file adds (1) compile-time checks that the data the engine hands out, as its ports
 * and domain declare it, is what the contract promises, and that the capabilities the engine
 * builds are exactly the contract's, and (2) the same at run time, through the real sandbox.
 */

/** `true` when A may be given where B is promised. */
type Fits<A, B> = [A] extends [B] ? true : false;

// A `false` in the type below is a type error (`npm run typecheck`): a port or domain change that would break scripts.
const dataFitsContract: [
  Fits<PortDeployment, Deployment>,
  Fits<PortGatewayMetrics, GatewayMetrics>,
  Fits<GatewayRecord, Gateway>,
  Fits<DomainEvent, VeerEvent>,
  Fits<DomainRunTrigger, RunTrigger>,
  Fits<DomainSignal, Signal>,
  Fits<Workflow['env'], Ctx['env']>,
  Fits<SandboxContextData['workflow'], Ctx['workflow']>,
  Fits<SandboxContextData['run'], Ctx['run']>,
] = [true, true, true, true, true, true, true, true, true];

function memoryState(): StateStore {
  const data = new Map<string, unknown>();
  const key = (workflow: string, k: string) => `${workflow}\u0000${k}`;
  return {
    get: async (workflow, k) => data.get(key(workflow, k)),
    set: async (workflow, k, value) => void data.set(key(workflow, k), value),
    delete: async (workflow, k) => data.delete(key(workflow, k)),
    all: async (workflow) =>
      Object.fromEntries([...data].filter(([k]) => k.startsWith(`${workflow}\u0000`)).map(([k, v]) => [k.slice(workflow.length + 1), v])),
    clear: async (workflow) => {
      const mine = [...data.keys()].filter((k) => k.startsWith(`${workflow}\u0000`));
      for (const k of mine) data.delete(k);
      return mine.length;
    },
  };
}

/** An inbox holding one 'promote' signal: `take` hands it out once (settling is the executor's, not the contract's). */
function oneSignal(): SignalStore {
  const inbox: DomainSignal[] = [{ id: '000000000001-ab', name: 'promote', value: { step: 2 }, sentAt: new Date(0).toISOString(), sentBy: 'tester' }];
  const first = (name?: string) => inbox.findIndex((s) => name === undefined || s.name === name);
  return {
    send: async () => undefined,
    pending: async () => [...inbox],
    take: async (_workflow, _runId, name) => {
      const i = first(name);
      return i < 0 ? undefined : inbox.splice(i, 1)[0];
    },
    peek: async (_workflow, name) => inbox[first(name)],
    commit: async () => 0,
    restore: async () => 0,
  };
}

const event: DomainEvent = { id: '1-0', tags: ['t'], type: 'event', value: null, timestamp: new Date(0).toISOString() };

/** Only what the events capability calls: emit, and the store's query. */
const bus = {
  emit: async () => event,
  store: { query: async () => ({ events: [event] }) },
} as unknown as EventBus;

const metricsStore: GatewayMetricsStore = {
  kind: 'fixed',
  record: async () => ({ accepted: 0, rejected: 0 }),
  query: async (gateway, q) => ({
    gateway,
    windowMs: q.windowMs,
    requests: 0,
    rate: 0,
    errors: 0,
    errorRate: null,
    latency: { avg: null, p50: null, p95: null, p99: null },
    samples: 0,
    noData: true,
  }),
  close: async () => {},
};

/** Every capability, built by the engine's own factories as the system builds them. */
function engineCapabilities() {
  return {
    state: createStateCapability(memoryState()),
    gateways: createGatewaysCapability(createGatewayService({ kv: createMemoryKv(), logger: silentLogger() })),
    deployments: createDeploymentsCapability({ scheduler: createMemoryScheduler([{ name: 'shop' }]) }),
    events: createEventsCapability(bus),
    metrics: createMetricsCapability(metricsStore),
    signals: createSignalsCapability(oneSignal()),
    secrets: createSecretsCapability({ reveal: async () => 'value' }),
    http: createHttpCapability({ maxBytes: 1024, maxRedirects: 0 }),
  } satisfies ContractCapabilities; // a capability or method missing, or one too many, is a type error
}

describe('the script contract and the engine agree', () => {
  let sandbox: SandboxHost;
  before(() => {
    sandbox = createIsolatedSandbox({ processes: 1, runsPerProcess: 1, logger: silentLogger() });
  });
  after(() => sandbox.close());

  it('engine data types fit the contract (checked by the typecheck)', () => {
    assert.ok(dataFitsContract.every((ok) => ok));
  });

  it('the engine implements exactly the contract methods, no more, no fewer', () => {
    const caps = engineCapabilities();
    const implemented = Object.entries(caps).map(([name, cap]) => [name, Object.keys(cap).sort()]);
    const contract = scriptCapabilityMethods().map(([name, methods]) => [name, [...methods].sort()]);
    assert.deepEqual(Object.fromEntries(implemented), Object.fromEntries(contract));
  });

  it('a script gets a function for every contract method, and ctx holds nothing else', async () => {
    const methods = scriptCapabilityMethods();
    const outcome = await runScript(
      sandbox,
      `
      export default async function (ctx) {
        const missing = [];
        for (const [cap, names] of ctx.input) {
          for (const name of names) if (typeof ctx[cap]?.[name] !== 'function') missing.push(cap + '.' + name);
        }
        const shape = {};
        for (const [cap] of ctx.input) shape[cap] = Object.getOwnPropertyNames(ctx[cap]).sort();
        return { missing, keys: Object.keys(ctx).sort(), shape, sleep: typeof ctx.sleep, log: Object.keys(ctx.log).sort() };
      }`,
      { input: methods, capabilities: engineCapabilities() },
    );
    assert.deepEqual(resultOf(outcome), {
      missing: [],
      keys: [...RESERVED_CTX_NAMES, ...methods.map(([name]) => name)].sort(),
      shape: Object.fromEntries(methods.map(([name, m]) => [name, [...m].sort()])),
      sleep: 'function',
      log: ['debug', 'error', 'info', 'warn'],
    });
  });

  it('results reach the script as the contract types them: state.set → null, state.delete → whether it existed, events.query → a list, signals.take → a signal or undefined', async () => {
    const outcome = await runScript(
      sandbox,
      `
      export default async function (ctx) {
        const set = await ctx.state.set('k', { n: 1 });
        const got = await ctx.state.get('k');
        const deleted = await ctx.state.delete('k');
        const again = await ctx.state.delete('k');
        const events = await ctx.events.query({ tags: ['t'] });
        const metrics = await ctx.metrics.gateway('shop', { window: '1m' });
        const signal = await ctx.signals.take('promote');
        const none = await ctx.signals.take();
        return { set, got, deleted, again, events: Array.isArray(events) ? events.map((e) => e.id) : events, noData: metrics.noData, p99: metrics.latency.p99, signal, none: none === undefined };
      }`,
      { capabilities: engineCapabilities() },
    );
    assert.deepEqual(resultOf(outcome), {
      set: null,
      got: { n: 1 },
      deleted: true,
      again: false,
      events: ['1-0'],
      noData: true,
      p99: null,
      signal: { id: '000000000001-ab', name: 'promote', value: { step: 2 }, sentAt: new Date(0).toISOString(), sentBy: 'tester' },
      none: true,
    });
  });
});
