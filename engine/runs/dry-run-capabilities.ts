import type { EventsCapability, HttpCapability, HttpResponse, SignalsCapability, StateCapability } from '../../workflows/types.ts';
import type { DryRunEffect } from '../domain/run.ts';
import type { EventBus } from '../events/bus.ts';
import { scriptEmission } from '../events/events-capability.ts';
import type { SignalStore } from '../ports/signal-store.ts';
import { STATE_LIMITS } from '../ports/state-store.ts';
import type { Capability } from '../ports/sandbox-host.ts';
import type { Capabilities, HostCapability, RunScope } from '../sandbox/capabilities.ts';
import { ValidationError } from '../shared/errors.ts';
import { effectRecorder, type RecordEffect } from './dry-run-effects.ts';
import { dryDeployments, dryGateways, type DriverAbilities, type GatewayPlanner } from './dry-run-infra.ts';
import { signalNameArg } from './signals-capability.ts';
import { planRequest, READ_METHODS } from '../connect/http-fetch.ts';
import { loggableUrl } from '../connect/url-patterns.ts';
import { stateKeyOf } from './state-capability.ts';

/** What a dry run needs besides the real capabilities: ways to check an effect without applying it. */
export interface DryRunDeps {
  /** Peeks at the inbox instead of taking. */
  signals: SignalStore;
  gateways?: GatewayPlanner;
  scheduler?: DriverAbilities;
  /** Checks an event as `emit` would, storing nothing. */
  events?: Pick<EventBus, 'preview'>;
}

/** Capabilities that only read: a dry run gets them as they are. */
const READ_ONLY = new Set(['metrics']);

/**
 * The capabilities of one dry run (`Run.dryRun`): reads are real; every effect — gateway
 * weights and updates, scales, emitted events, signals taken, state written — is checked as the
 * real call would check it (so a dry run fails where the real run would), recorded in
 * `effects`, and not applied. Changes are kept in per-run overlays, so the script reads its own
 * writes. A capability this layer does not know (one added later) is left out of dry runs
 * rather than risk applying its effects.
 */
export function dryRunCapabilities(real: Capabilities, deps: DryRunDeps): { capabilities: Capabilities; effects: DryRunEffect[] } {
  const { record, effects } = effectRecorder();
  const wrap: Record<string, (cap: Capability) => Capability | undefined> = {
    gateways: (cap) => (deps.gateways ? dryGateways(cap, deps.gateways, record) : undefined),
    deployments: (cap) => dryDeployments(cap, deps.scheduler, record),
    events: (cap) => (deps.events ? dryEvents(cap, deps.events, record) : undefined),
    state: (cap) => dryState(cap, record),
    signals: () => drySignals(deps.signals, record),
    http: (cap) => dryHttp(cap, record),
  };
  const capabilities: Capabilities = {};
  for (const [name, cap] of Object.entries(real)) {
    const dry = READ_ONLY.has(name) ? cap : Object.hasOwn(wrap, name) ? wrap[name](cap) : undefined;
    if (dry) capabilities[name] = dry;
  }
  return { capabilities, effects };
}

/** Emits are checked by the bus (shape, size, reserved tags and types) and answered with the event they would have stored. */
function dryEvents(real: Capability, bus: Pick<EventBus, 'preview'>, record: RecordEffect): HostCapability<EventsCapability> {
  let n = 0;
  return {
    emit: async (scope, input) => {
      const { event, origin } = scriptEmission(scope, input);
      const stored = bus.preview(event, { ...origin, hops: scope.hops });
      record(scope, { capability: 'events.emit', target: (event.tags as unknown[]).join(','), before: null, after: stored });
      // Not an id of the store (it stored nothing): an id no query finds, still unique within the run.
      return { id: `dry-run-${++n}`, ...stored };
    },
    query: (scope, filter) => real.query(scope, filter) as ReturnType<HostCapability<EventsCapability>['query']>,
  };
}

/** The checks the state stores make before a write (STATE_LIMITS), for writes that never reach a store. */
function checkStateWrite(key: string, value: unknown): void {
  if (key.length === 0 || Buffer.byteLength(key) > STATE_LIMITS.keyBytes)
    throw new ValidationError(`state key must be a non-empty string of at most ${STATE_LIMITS.keyBytes} bytes`, [{ path: 'key', message: 'invalid' }]);
  const bytes = Buffer.byteLength(JSON.stringify(value ?? null));
  if (bytes > STATE_LIMITS.valueBytes)
    throw new ValidationError(`state value for '${key}' is ${bytes} bytes as JSON; the limit is ${STATE_LIMITS.valueBytes}`, [
      { path: key, message: 'too large' },
    ]);
}

/** State writes go to a per-run overlay over the real state; `{ value: undefined }` is a deleted key. */
function dryState(real: Capability, record: RecordEffect): HostCapability<StateCapability> {
  const overlay = new Map<string, { value: unknown }>();
  const read = async (scope: RunScope, key: string) => {
    const o = overlay.get(key);
    return o ? o.value : real.get(scope, key);
  };
  return {
    get: async (scope, key) => read(scope, stateKeyOf(key)) as Promise<undefined>,
    set: async (scope, keyArg, value) => {
      const key = stateKeyOf(keyArg);
      checkStateWrite(key, value);
      const before = await read(scope, key);
      overlay.set(key, { value: value ?? null });
      record(scope, { capability: 'state.set', target: key, before, after: value ?? null });
      return null;
    },
    delete: async (scope, keyArg) => {
      const key = stateKeyOf(keyArg);
      const before = await read(scope, key);
      overlay.set(key, { value: undefined });
      record(scope, { capability: 'state.delete', target: key, before, after: null });
      return before !== undefined;
    },
  };
}

/** `take` peeks: the signal stays in the inbox; the run remembers what it saw, so a second take answers the next one. */
function drySignals(store: SignalStore, record: RecordEffect): HostCapability<SignalsCapability> {
  const seen: string[] = [];
  return {
    take: async (scope, nameArg) => {
      const signal = await store.peek(scope.workflow.name, signalNameArg(nameArg), seen);
      if (!signal) return undefined;
      seen.push(signal.id);
      record(scope, { capability: 'signals.take', target: signal.name, before: signal, after: null });
      return signal;
    },
  };
}

/** Bodies kept in a dry run's effect: enough to see what would have been sent. */
const DRY_BODY_CHARS = 2048;

/**
 * GET and HEAD read, so they are sent; any other request is checked as the real call checks it
 * (allow-list, URL, headers, body) and recorded as an effect instead of being sent. The script
 * gets status 202 and the header `x-veer-dry-run: not sent`, so it can tell.
 */
function dryHttp(real: Capability, record: RecordEffect): HostCapability<HttpCapability> {
  return {
    fetch: async (scope, url, options) => {
      const plan = planRequest(scope, url, options);
      if (READ_METHODS.has(plan.method)) return real.fetch(scope, url, options) as Promise<HttpResponse>;
      const body = plan.body === undefined ? null : plan.body.length > DRY_BODY_CHARS ? `${plan.body.slice(0, DRY_BODY_CHARS)}…` : plan.body;
      record(scope, { capability: 'http.fetch', target: loggableUrl(plan.url), before: null, after: { method: plan.method, body } });
      return { status: 202, headers: { 'x-veer-dry-run': 'not sent' }, text: '', url: plan.url.href } as unknown as HttpResponse;
    },
  };
}
