import type { KvEntry, KvStore } from '../ports/kv-store.ts';
import { ConflictError, NotFoundError, ValidationError, VeerError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { Backoff } from '../shared/retry.ts';
import { GATEWAYS_PREFIX, gatewayKey } from '../domain/gateways/keys.ts';
import { weightsOf, type Gateway, type GatewayRecord } from '../domain/gateways/model.ts';
import { specOf, validateGateway } from '../domain/gateways/validate.ts';
import { jsonEqual, outcomeOf, type DryRunOutcome } from '../domain/dry-run-put.ts';
import { readAgents, readGatewayStatus, type AgentSummary, type GatewayStatus } from './gateway-status.ts';

export type { AgentSummary, GatewayStatus } from './gateway-status.ts';

export interface GatewayEvent {
  tags: string[];
  type: string;
  value: unknown;
}

export interface GatewayServiceOptions {
  kv: KvStore;
  logger: Logger;
  /** Called after a weight or structure change; failures are logged, never thrown. */
  emit?: (event: GatewayEvent) => Promise<void>;
  now?: () => Date;
}

export interface WriteOptions {
  /** Compare-and-set: fail with 409 unless the gateway is still at this revision ('0': only if absent). */
  ifRevision?: string;
}

/** A route patch; `null` removes the route (in `routes`) or the field. */
export type GatewayPatch = Record<string, unknown> & { routes?: Record<string, Record<string, unknown> | null> };

export interface GatewayService {
  list(): Promise<GatewayRecord[]>;
  get(name: string): Promise<GatewayRecord>;
  put(name: string, spec: unknown, options?: WriteOptions): Promise<GatewayRecord & { created: boolean }>;
  /**
   * What `put` would do, with the same checks (revision, port taken), writing nothing: the
   * gateway as it would be stored (no revision or updatedAt unless unchanged: then the stored one).
   */
  planPut(name: string, spec: unknown, options?: WriteOptions): Promise<{ outcome: DryRunOutcome; gateway: Omit<Gateway, 'updatedAt'> | GatewayRecord }>;
  delete(name: string, options?: WriteOptions): Promise<void>;
  /** Absolute weights for some or all routes; unlisted routes keep theirs; the result must add up to 100 (or 0). */
  setWeights(name: string, weights: Record<string, number>, options?: WriteOptions): Promise<GatewayRecord & { before: Record<string, number> }>;
  update(name: string, patch: GatewayPatch, options?: WriteOptions): Promise<GatewayRecord>;
  /**
   * What `setWeights` / `update` would make of the gateway, with the same checks, writing
   * nothing (dry runs). `base` is the gateway to start from (a dry run's earlier plan) instead
   * of the stored one; the result keeps its revision.
   */
  planWeights(name: string, weights: Record<string, number>, base?: GatewayRecord): Promise<GatewayRecord>;
  planUpdate(name: string, patch: GatewayPatch, base?: GatewayRecord): Promise<GatewayRecord>;
  status(name: string): Promise<GatewayStatus>;
  /** Every gateway agent that has reported, with what it serves of each gateway. */
  agents(): Promise<AgentSummary[]>;
}

/** Internal CAS retries for writes without the caller's revision. */
const MAX_RETRIES = 20;
/** Short pauses (writers race within one store round trip), jittered so racers spread out. */
const casBackoff = () => new Backoff({ minMs: 2, maxMs: 50 });

const isConflict = (err: unknown) => err instanceof VeerError && (err.code === 'CONFLICT' || err.code.endsWith('.CONFLICT'));

/** Everything but updatedAt (and revision): equal content means a write would change nothing. */
const contentOf = (g: Gateway) => ({ ...g, updatedAt: undefined, revision: undefined });
const sameContent = (a: Gateway, b: Gateway) => jsonEqual(contentOf(a), contentOf(b));
const structure = (g: Gateway) =>
  JSON.stringify({
    ...g,
    updatedAt: undefined,
    revision: undefined,
    routes: Object.fromEntries(Object.entries(g.routes).map(([r, v]) => [r, { ...v, weight: 0 }])),
  });

/**
 * Keys that are object machinery rather than names: assigning `__proto__` would replace a
 * prototype, so a patch naming one is refused (by the API and scripts alike) before any merge.
 */
function refuseSpecialKey(key: string, path: string): void {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype')
    throw new ValidationError(`${path}: key "${key}" is not allowed`, [{ path, message: `key "${key}" is not allowed` }]);
}

function checkWeightsArg(weights: unknown): asserts weights is Record<string, number> {
  if (typeof weights !== 'object' || weights === null || Array.isArray(weights) || Object.keys(weights).length === 0) {
    throw new ValidationError('weights: expected an object of route → whole percentage, e.g. {"v1": 90, "v2": 10}', [
      { path: 'weights', message: 'expected an object of route → weight' },
    ]);
  }
}

function checkPatchArg(patch: unknown): asserts patch is GatewayPatch {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new ValidationError('update: expected an object with the fields to change', [{ path: '(body)', message: 'expected an object' }]);
  }
}

export function createGatewayService(options: GatewayServiceOptions): GatewayService {
  const { kv, logger } = options;
  const now = options.now ?? (() => new Date());
  const log = logger.child({ component: 'gateways' });

  const parse = (entry: KvEntry): GatewayRecord => {
    const name = entry.key.slice(entry.key.lastIndexOf('/') + 1);
    const { name: _name, updatedAt, ...spec } = JSON.parse(entry.value) as Gateway;
    // Re-validate: the store may have been edited by hand.
    const g = validateGateway(name, spec);
    return { ...g, updatedAt: updatedAt ?? g.updatedAt, revision: entry.revision };
  };

  /** The entry and, if it is valid, the gateway; a hand-broken value can still be replaced or deleted. */
  const load = async (name: string): Promise<{ entry: KvEntry; record?: GatewayRecord; error?: unknown }> => {
    const entry = await kv.get(gatewayKey(name));
    if (!entry) throw new NotFoundError('gateway', name);
    try {
      return { entry, record: parse(entry) };
    } catch (error) {
      return { entry, error };
    }
  };

  const read = async (name: string): Promise<GatewayRecord> => {
    const { record, error, entry } = await load(name);
    if (record) return record;
    const why = error instanceof Error ? error.message : String(error);
    const issues =
      error instanceof ValidationError
        ? (error.details as { issues: Array<{ path: string; message: string }> }).issues
        : [{ path: '(stored value)', message: why }];
    throw new ValidationError(
      `gateway '${name}' in the ${kv.kind} store (revision ${entry.revision}) is invalid — replace it with PUT /gateways/${name}: ${why}`,
      issues,
    );
  };

  const emit = async (type: 'gateway.weights' | 'gateway.updated', name: string, value: Record<string, unknown>) => {
    if (!options.emit) return;
    try {
      await options.emit({ tags: ['gateways', `gateways:${name}`], type, value: { gateway: name, ...value } });
    } catch (err) {
      log.warn({ err, gateway: name, type }, 'could not emit gateway event');
    }
  };

  const staleRevision = async (name: string, expected: string): Promise<never> => {
    const current = await kv.get(gatewayKey(name)).catch(() => undefined);
    const now = current ? `it is now at revision ${current.revision}` : 'it does not exist any more';
    const msg =
      expected === '0'
        ? `gateway '${name}' already exists (revision ${current?.revision}); drop ifRevision '0' to replace it`
        : `gateway '${name}' was changed by someone else: you sent revision ${expected} but ${now}; re-read it and retry`;
    throw new ConflictError(msg, { gateway: name, expected, current: current?.revision });
  };

  /** Writes `next` with CAS against `expected`; maps the store's conflict to a ConflictError naming the gateway. */
  const write = async (next: Gateway, expected: string | undefined): Promise<string> => {
    try {
      return await kv.put(gatewayKey(next.name), JSON.stringify(next), expected === undefined ? {} : { ifRevision: expected });
    } catch (err) {
      if (isConflict(err)) return staleRevision(next.name, expected ?? '?');
      throw err;
    }
  };

  const checkPort = async (g: Gateway) => {
    const { entries } = await kv.list(GATEWAYS_PREFIX);
    for (const e of entries) {
      const other = e.key.slice(e.key.lastIndexOf('/') + 1);
      if (other === g.name) continue;
      let port: unknown;
      try {
        port = (JSON.parse(e.value) as Gateway).port;
      } catch {
        continue;
      }
      if (port === g.port)
        throw new ConflictError(`port ${g.port} is already used by gateway '${other}'; choose another port or change that gateway first`, {
          port: g.port,
          gateway: other,
        });
    }
  };

  /**
   * Read-modify-write with CAS. With the caller's ifRevision a race is the caller's 409;
   * without one the change is re-applied to the fresh value (our changes are absolute, so
   * re-applying is safe).
   */
  const modify = async <T>(
    name: string,
    opts: WriteOptions,
    change: (current: GatewayRecord) => Gateway,
    after: (prev: GatewayRecord, next: GatewayRecord) => Promise<T>,
  ): Promise<T> => {
    const backoff = casBackoff();
    for (let attempt = 0; ; attempt++) {
      const current = await read(name);
      if (opts.ifRevision !== undefined && opts.ifRevision !== current.revision) return staleRevision(name, opts.ifRevision);
      const next = change(current);
      if (sameContent(next, current)) return after(current, current);
      if (next.port !== current.port) await checkPort(next);
      try {
        const revision = await write(next, current.revision);
        return after(current, { ...next, revision });
      } catch (err) {
        if (opts.ifRevision !== undefined || !isConflict(err) || attempt >= MAX_RETRIES) throw err;
        await backoff.wait();
      }
    }
  };

  /** `modify` without the write: the same change and checks (a port taken by another gateway included). */
  const plan = async (name: string, base: GatewayRecord | undefined, change: (current: GatewayRecord) => Gateway): Promise<GatewayRecord> => {
    const current = base ?? (await read(name));
    const next = change(current);
    if (sameContent(next, current)) return current;
    if (next.port !== current.port) await checkPort(next);
    return { ...next, revision: current.revision };
  };

  /** The gateway with some routes' weights set (absolute); unknown routes and sums other than 100 (or all 0) are refused. */
  const withWeights = (name: string, current: GatewayRecord, weights: Record<string, number>): Gateway => {
    // Own routes only: a route named `__proto__`, `constructor` or `toString` must not find Object.prototype.
    const unknown = Object.keys(weights).filter((r) => !Object.hasOwn(current.routes, r));
    if (unknown.length) {
      const message = `gateway '${name}' has no route ${unknown.map((r) => `'${r}'`).join(', ')}; its routes are ${Object.keys(current.routes).join(', ')}`;
      throw new ValidationError(
        `weights: ${message}`,
        unknown.map((r) => ({ path: `weights.${r}`, message: 'no such route' })),
      );
    }
    const spec = specOf(current) as { routes: Record<string, { weight: number }> };
    // Every r is an own route of the current gateway (checked above), never an inherited member.
    for (const [r, w] of Object.entries(weights)) spec.routes[r].weight = w;
    return validateGateway(name, spec, now());
  };

  /** The gateway with a patch merged in (`null` removes a field or a route). */
  const withPatch = (name: string, current: GatewayRecord, patch: GatewayPatch): Gateway => {
    const spec = specOf(current) as Record<string, unknown> & { routes: Record<string, Record<string, unknown>> };
    for (const [k, v] of Object.entries(patch)) {
      if (k === 'routes' || k === 'name' || k === 'revision' || k === 'updatedAt') continue;
      refuseSpecialKey(k, k);
      if (v === null) delete spec[k];
      else spec[k] = v;
    }
    const routes = Object.hasOwn(patch, 'routes') ? patch.routes : undefined;
    if (routes !== undefined) {
      if (typeof routes !== 'object' || routes === null || Array.isArray(routes))
        throw new ValidationError('routes: expected an object of route name → route changes (null removes a route)', [
          { path: 'routes', message: 'expected an object' },
        ]);
      for (const [r, change] of Object.entries(routes)) {
        refuseSpecialKey(r, `routes.${r}`);
        if (change === null) {
          delete spec.routes[r];
          continue;
        }
        if (typeof change !== 'object' || Array.isArray(change))
          throw new ValidationError(`routes.${r}: expected an object of route fields (or null to remove the route)`, [
            { path: `routes.${r}`, message: 'expected an object' },
          ]);
        // Own routes only: `constructor` or `toString` as a new route name must start from nothing.
        const route: Record<string, unknown> = { ...(Object.hasOwn(spec.routes, r) ? spec.routes[r] : {}) };
        for (const [k, v] of Object.entries(change)) {
          refuseSpecialKey(k, `routes.${r}.${k}`);
          if (v === null) delete route[k];
          else route[k] = v;
        }
        if (route.condition === undefined && !Object.hasOwn(change, 'conditionStrength')) delete route.conditionStrength;
        spec.routes[r] = route;
      }
    }
    return validateGateway(name, spec, now());
  };

  return {
    async list() {
      const { entries } = await kv.list(GATEWAYS_PREFIX);
      const out: GatewayRecord[] = [];
      for (const e of entries) {
        try {
          out.push(parse(e));
        } catch (err) {
          log.warn({ err, key: e.key }, 'skipping an invalid gateway in the KV store');
        }
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },

    get: read,

    async put(name, spec, opts = {}) {
      const next = validateGateway(name, spec, now());
      const backoff = casBackoff();
      for (let attempt = 0; ; attempt++) {
        const found = await load(name).catch((err) => {
          if (err instanceof NotFoundError) return undefined;
          throw err;
        });
        const current = found?.record;
        const currentRevision = found?.entry.revision ?? '0';
        if (opts.ifRevision !== undefined && opts.ifRevision !== currentRevision) return staleRevision(name, opts.ifRevision);
        if (current && sameContent(current, next)) return { ...current, created: false };
        if (!current || current.port !== next.port) await checkPort(next);
        let revision: string;
        try {
          revision = await write(next, currentRevision);
        } catch (err) {
          // Without the caller's ifRevision a PUT is "last writer wins": try again on a race.
          if (opts.ifRevision === undefined && isConflict(err) && attempt < MAX_RETRIES) {
            await backoff.wait();
            continue;
          }
          throw err;
        }
        if (current && structure(current) === structure(next)) {
          await emit('gateway.weights', name, { revision, before: weightsOf(current), after: weightsOf(next) });
        } else {
          await emit('gateway.updated', name, { revision, action: found ? 'updated' : 'created', weights: weightsOf(next) });
        }
        log.info({ gateway: name, revision, created: !found }, 'gateway saved');
        return { ...next, revision, created: !found };
      }
    },

    async planPut(name, spec, opts = {}) {
      const next = validateGateway(name, spec, now());
      const found = await load(name).catch((err) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
      const current = found?.record;
      if (opts.ifRevision !== undefined && opts.ifRevision !== (found?.entry.revision ?? '0')) return staleRevision(name, opts.ifRevision);
      const outcome = found && !current ? 'updated' : outcomeOf(current && contentOf(current), contentOf(next));
      if (current && outcome === 'unchanged') return { outcome, gateway: current };
      if (!current || current.port !== next.port) await checkPort(next);
      const { updatedAt: _u, ...gateway } = next;
      return { outcome, gateway };
    },

    async delete(name, opts = {}) {
      const current = (await load(name)).entry;
      if (opts.ifRevision !== undefined && opts.ifRevision !== current.revision) return staleRevision(name, opts.ifRevision);
      try {
        const existed = await kv.delete(gatewayKey(name), { ifRevision: current.revision });
        if (!existed) throw new NotFoundError('gateway', name);
      } catch (err) {
        if (isConflict(err)) return staleRevision(name, current.revision);
        throw err;
      }
      await emit('gateway.updated', name, { revision: current.revision, action: 'deleted' });
      log.info({ gateway: name }, 'gateway deleted');
    },

    async setWeights(name, weights, opts = {}) {
      checkWeightsArg(weights);
      return modify(
        name,
        opts,
        (current) => withWeights(name, current, weights),
        async (prev, next) => {
          const before = weightsOf(prev);
          if (prev !== next) {
            await emit('gateway.weights', name, { revision: next.revision, before, after: weightsOf(next) });
            log.info({ gateway: name, revision: next.revision, before, after: weightsOf(next) }, 'gateway weights changed');
          }
          return { ...next, before };
        },
      );
    },

    async update(name, patch, opts = {}) {
      checkPatchArg(patch);
      return modify(
        name,
        opts,
        (current) => withPatch(name, current, patch),
        async (prev, next) => {
          if (prev !== next) {
            if (structure(prev) === structure(next))
              await emit('gateway.weights', name, { revision: next.revision, before: weightsOf(prev), after: weightsOf(next) });
            else await emit('gateway.updated', name, { revision: next.revision, action: 'updated', weights: weightsOf(next) });
            log.info({ gateway: name, revision: next.revision }, 'gateway updated');
          }
          return next;
        },
      );
    },

    async planWeights(name, weights, base) {
      checkWeightsArg(weights);
      return plan(name, base, (current) => withWeights(name, current, weights));
    },

    async planUpdate(name, patch, base) {
      checkPatchArg(patch);
      return plan(name, base, (current) => withPatch(name, current, patch));
    },

    async status(name) {
      const g = (await load(name)).entry;
      return readGatewayStatus(kv, name, g.revision, now());
    },

    agents: () => readAgents(kv, now()),
  };
}
