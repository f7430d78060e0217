import assert from 'node:assert/strict';
import type { Gateway, MetricsCapability, PrometheusQueryOptions, PrometheusResult, ScriptLog, StateCapability } from '../../workflows/types.ts';

/** Pieces of a fake `ctx` the built-in workflows' unit tests share (not a test file itself). */

/** JSON round trip, as every value crossing the sandbox boundary makes. */
export const jsonCopy = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** `ctx.state` over a Map, holding the script to the 64 KiB value limit and to JSON copies. */
export function fakeState(state: Map<string, unknown>): StateCapability {
  return {
    get: async (key: string) => jsonCopy(state.get(key)) as any,
    set: async (key: string, value: unknown) => {
      const text = JSON.stringify(value);
      assert.ok(text.length <= 64 * 1024, `state ${key} is ${text.length} bytes, over 64 KiB`);
      state.set(key, JSON.parse(text));
      return null;
    },
    delete: async (key: string) => state.delete(key),
  };
}

export interface LoggedLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** `ctx.log` writing into `logs`. */
export function fakeLog(logs: LoggedLine[]): ScriptLog {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void logs.push({ level, message, ...(fields ? { fields } : {}) });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface PrometheusCall {
  query: string;
  options?: PrometheusQueryOptions;
}

/**
 * `ctx.metrics.prometheus` answering an instant query with `answer(query)`: a number is a
 * one-series result, null an empty answer (noData), and an Error with a `code`
 * (PROMETHEUS.UNAVAILABLE, PROMETHEUS.QUERY) is thrown as the capability throws it. Every
 * query sent lands in `calls`.
 */
export function fakePrometheus(answer: (query: string) => number | null | Error, calls: PrometheusCall[] = []): MetricsCapability['prometheus'] {
  return async (query, options) => {
    calls.push(options ? { query, options: jsonCopy(options) } : { query });
    const a = answer(query);
    if (a instanceof Error) throw a;
    const finite = a !== null && Number.isFinite(a);
    const result: PrometheusResult = {
      value: finite ? a : null,
      series: a === null ? [] : [{ metric: {}, value: finite ? a : null }],
      samples: a === null ? 0 : 1,
      noData: !finite,
      query,
    };
    return result;
  };
}

/** An error as the engine's capabilities throw it into the sandbox: message plus `code`. */
export const codedError = (code: string, message: string) => Object.assign(new Error(message), { code });

/** The gateway `shop` as ctx.gateways.get answers it, with these route weights. */
export function fakeGateway(weights: Record<string, number>, o: { conditionStrength?: number; revision?: string } = {}): Gateway {
  return {
    name: 'shop',
    port: 9090,
    mode: 'http',
    sticky: 'none',
    virtualHosts: [],
    routes: Object.fromEntries(Object.entries(weights).map(([n, weight]) => [n, { weight, conditionStrength: o.conditionStrength ?? 0, targets: [] }])),
    updatedAt: '2026-01-01T00:00:00.000Z',
    revision: o.revision ?? '1',
  };
}
