import type { Capabilities as ScriptCapabilities } from '../../workflows/types.ts';
import { NameSchema } from '../domain/workflow.ts';
import type { BudgetCounter } from '../ports/sandbox-host.ts';
import { STATE_LIMITS } from '../ports/state-store.ts';
import { anyData, either, list, nullable, num, oneOf, record, shape, str, type ArgSchema } from './arg-schema.ts';

/**
 * The argument schema of every method of the script contract (workflows/types.ts), checked at
 * the host boundary before a capability runs: types, sizes and key names, so that a
 * capability only ever sees arguments of the shape its contract declares. Values are checked
 * by the domain as before (weights add up, conditions parse, quantities are valid); this is
 * the shape that makes those checks safe to run. The table's type makes a missing or an extra
 * method a type error, like script-api.ts.
 */
export interface ArgSpec {
  /** As the contract names it; used in messages: `argument 2 (weights)`. */
  name: string;
  schema: ArgSchema;
  /** Absent (or null: JSON turns `undefined` arguments into null) is fine. */
  optional?: boolean;
}

export interface MethodSpec {
  args: readonly ArgSpec[];
  /** Budgets a call draws on before it runs (e.g. one emitted event). */
  costs?: Partial<Record<BudgetCounter, number>>;
  /** Budget a call draws on from its result (e.g. events returned by a query). */
  resultCost?: { counter: BudgetCounter; of: (result: unknown) => number };
}

type MethodTable = { readonly [K in keyof ScriptCapabilities]: { readonly [M in keyof ScriptCapabilities[K]]-?: MethodSpec } };

const NAME_RULE = '1-63 lowercase letters, digits or dashes, starting and ending with a letter or digit';
const name = (what: string): ArgSpec => ({
  name: 'name',
  schema: str({ min: 1, max: 63, test: (s) => NameSchema.safeParse(s).success, rule: `${what} names are ${NAME_RULE}` }),
});
// Numbers were always accepted as keys (`ctx.state.get(1)` is key '1'); objects never meant anything.
const stateKey: ArgSpec = { name: 'key', schema: either(str({ min: 1, max: STATE_LIMITS.keyBytes }), num()) };
const routeName = str({ min: 1, max: 63 });
const host = str({ min: 1, max: 253 });
const port = num({ int: true, min: 0, max: 65535 });
const percent = num();

const targets = either(
  list(shape({ host, port }, ['host', 'port']), 1000),
  shape({ deployment: str({ min: 1, max: 63 }), port: either(str({ min: 1, max: 63 }), port) }, ['deployment', 'port']),
);
const routePatch = shape({
  weight: nullable(percent),
  condition: nullable(str({ max: 2000 })),
  conditionStrength: nullable(percent),
  balance: nullable(str({ min: 1, max: 32 })),
  targets: nullable(targets),
});
const gatewayPatch = shape({
  port,
  mode: nullable(oneOf('http', 'tcp')),
  sticky: nullable(oneOf('none', 'route', 'instance')),
  virtualHosts: nullable(list(host, 100)),
  routes: record(routeName, nullable(routePatch), 100),
  // What ctx.gateways.get returns, so a script may pass a gateway back; the service ignores these.
  name: str({ max: 63 }),
  revision: str({ max: 200 }),
  updatedAt: str({ max: 64 }),
});
const tag = str({ min: 1, max: 200 });
const tags = either(tag, list(tag, 64));
const time = either(str({ min: 1, max: 64 }), num());

export const CAPABILITY_METHODS: MethodTable = {
  state: {
    get: { args: [stateKey] },
    set: { args: [stateKey, { name: 'value', schema: anyData, optional: true }] },
    delete: { args: [stateKey] },
  },
  gateways: {
    list: { args: [] },
    get: { args: [name('gateway')] },
    setWeights: {
      args: [
        name('gateway'),
        { name: 'weights', schema: record(routeName, percent, 100) },
        { name: 'options', schema: shape({ rollback: shape({ cause: str({ max: 200 }), reason: str({ max: 500 }) }) }), optional: true },
      ],
    },
    update: { args: [name('gateway'), { name: 'patch', schema: gatewayPatch }] },
  },
  deployments: {
    list: { args: [] },
    get: { args: [name('deployment')] },
    scale: {
      args: [
        name('deployment'),
        {
          name: 'request',
          schema: shape({ instances: num({ int: true, min: 0 }), cpu: num({ min: 0 }), memory: either(num({ min: 0 }), str({ min: 1, max: 32 })) }),
        },
      ],
    },
    waitReady: { args: [name('deployment'), { name: 'options', schema: shape({ timeoutMs: num({ int: true, min: 1 }) }), optional: true }] },
  },
  events: {
    emit: {
      args: [
        {
          name: 'event',
          // `source` and `hops` are Veer's to set: passed on so the event bus refuses a claimed one by name.
          schema: shape({ tags, type: str({ min: 1, max: 100 }), value: anyData, source: anyData, hops: anyData }, ['tags']),
        },
      ],
      costs: { eventsEmitted: 1 },
    },
    query: {
      args: [
        {
          name: 'filter',
          schema: shape({ tags, type: str({ min: 1, max: 100 }), since: time, until: time, limit: num({ int: true, min: 1 }) }),
          optional: true,
        },
      ],
      resultCost: { counter: 'eventResults', of: (result) => (Array.isArray(result) ? result.length : 0) },
    },
  },
  signals: {
    take: { args: [{ name: 'name', schema: str({ min: 1, max: 63 }), optional: true }] },
  },
  metrics: {
    gateway: {
      args: [
        name('gateway'),
        {
          name: 'options',
          // null where a script computed NaN (`Number(env.X)`) and JSON turned it into null: "not given".
          schema: shape({ route: nullable(routeName), window: either(str({ min: 1, max: 32 }), num()), minSamples: nullable(num({ int: true, min: 0 })) }),
          optional: true,
        },
      ],
    },
    prometheus: {
      args: [
        { name: 'query', schema: str({ min: 1, max: 8192 }) },
        {
          name: 'options',
          schema: shape({
            at: nullable(time),
            range: nullable(shape({ window: either(str({ min: 1, max: 32 }), num()), step: either(str({ min: 1, max: 32 }), num()) }, ['window', 'step'])),
          }),
          optional: true,
        },
      ],
    },
  },
  http: {
    fetch: {
      args: [
        { name: 'url', schema: str({ min: 1, max: 8192 }) },
        {
          name: 'options',
          schema: shape({
            method: nullable(oneOf('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS')),
            headers: nullable(record(str({ min: 1, max: 256 }), str({ max: 8192 }), 100)),
            body: anyData,
            timeoutMs: nullable(num({ int: true, min: 1 })),
          }),
          optional: true,
        },
      ],
      costs: { httpRequests: 1 },
    },
  },
  secrets: {
    get: { args: [name('secret')] },
  },
};

/** The spec of `capability.method` when it is a contract method; other capabilities get the generic parse only. */
export function methodSpec(capability: string, method: string): MethodSpec | undefined {
  if (!Object.hasOwn(CAPABILITY_METHODS, capability)) return undefined;
  const methods = CAPABILITY_METHODS[capability as keyof MethodTable] as Record<string, MethodSpec>;
  return Object.hasOwn(methods, method) ? methods[method] : undefined;
}
