import type { Ctx, EnvValue, Gateway, VeerEvent } from './types.ts';

/**
 * Rollback hook: trigger it on alerts (`{ "events": { "tags": ["alerts"], "sources": ["api", "veer", "alertmanager"] } }`;
 * event triggers queue by default, so alerts in a row are handled one after the other).
 * Alertmanager's webhook (POST /api/v1/webhooks/alertmanager) stores `alert.firing` /
 * `alert.resolved` events of source `alertmanager`, tagged `gateways:<g>` from the alert's
 * `gateway` label: add `"type": "alert.firing"` or a `gateways:<name>` tag to narrow the trigger.
 * It puts GATEWAY back on the weights it had before the canary release began, as the
 * canary-release workflow recorded them (`stableWeights` of the newest `canary.started` event
 * tagged `canary:<gateway>`), or on STABLE_ROUTE 100 (every other route 0) when there is no
 * usable record; then scales CANARY_DEPLOYMENT down to CANARY_MIN_INSTANCES.
 *
 * The weights are set as a rollback whose cause is the triggering event, so Veer emits
 * `gateway.rolled_back` (source veer, tagged `gateways:<name>`) with the weights before and
 * after, the cause and the alert's summary. Idempotent: when the weights are already back and
 * the canary already at its minimum, a run changes nothing and emits nothing
 * (`{ changed: false }`) — a storm of alerts is one rollback.
 *
 * Reading the record needs `permissions.events` granting `canary:<gateway>` (or `canary:*`);
 * without it the record is not visible and the hook falls back to STABLE_ROUTE 100 (and logs
 * why). Only records published by a workflow count (source `workflow:…`; with CANARY_WORKFLOW,
 * only that workflow's): a `canary.started` event posted to the API must not choose where
 * traffic goes. A record is unusable when it names a route the gateway no longer has, gives
 * CANARY_ROUTE any weight, or does not add up to 100.
 *
 * The scale-down needs a `permissions.deployments` entry for the canary whose minInstances
 * allows CANARY_MIN_INSTANCES; a refusal is logged and reported in the result, not fatal: the
 * traffic is already safe. Alerts whose value says `status: "resolved"` (Alertmanager) are
 * ignored. Keep the trigger's `sources` to alert senders: the hook holds gateway permissions,
 * and any workflow may emit an `alerts` event.
 *
 * env (all optional but GATEWAY):
 *   GATEWAY               the gateway to roll back
 *   STABLE_ROUTE          'stable'
 *   CANARY_ROUTE          'canary'
 *   CANARY_DEPLOYMENT     the canary's deployment, scaled down (absent: no scaling)
 *   CANARY_MIN_INSTANCES  0
 *   CANARY_WORKFLOW       only trust `canary.started` records emitted by this workflow
 */

interface Config {
  gateway: string;
  stable: string;
  canary: string;
  deployment?: string;
  minInstances: number;
  canaryWorkflow?: string;
}

interface Restored {
  /** Where the weights came from: the canary's record, or the STABLE_ROUTE 100 fallback. */
  from: 'canary.started' | 'stable-100';
  event?: string;
  release?: unknown;
}

interface CanaryScale {
  deployment: string;
  /** null: the deployment could not be read. */
  from: number | null;
  to: number;
  error?: string;
}

function fail(variable: string, problem: string): never {
  throw new Error(`${variable}: ${problem}`);
}

function text(env: Record<string, EnvValue>, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

function config(env: Record<string, EnvValue>): Config {
  const minRaw = text(env, 'CANARY_MIN_INSTANCES') ?? '0';
  const minInstances = Number(minRaw);
  if (!Number.isInteger(minInstances) || minInstances < 0)
    fail('CANARY_MIN_INSTANCES', `must be a whole number ≥ 0, got ${JSON.stringify(env.CANARY_MIN_INSTANCES)}`);
  return {
    gateway: text(env, 'GATEWAY') ?? fail('GATEWAY', 'required: the gateway to roll back'),
    stable: text(env, 'STABLE_ROUTE') ?? 'stable',
    canary: text(env, 'CANARY_ROUTE') ?? 'canary',
    deployment: text(env, 'CANARY_DEPLOYMENT'),
    minInstances,
    canaryWorkflow: text(env, 'CANARY_WORKFLOW'),
  };
}

const weightsOf = (gw: Gateway): Record<string, number> => Object.fromEntries(Object.entries(gw.routes).map(([name, r]) => [name, r.weight]));
const sameWeights = (a: Record<string, number>, b: Record<string, number>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, w]) => b[k] === w);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What the alert says, for `reason`: the summaries Alertmanager and common senders use, else its type. */
function summaryOf(alert: unknown): string {
  const v = isObject(alert) ? alert.value : undefined;
  const first = isObject(v) && Array.isArray(v.alerts) ? v.alerts[0] : undefined;
  const candidates = [
    v,
    isObject(v) && v.summary,
    isObject(v) && isObject(v.annotations) && v.annotations.summary,
    isObject(v) && isObject(v.commonAnnotations) && v.commonAnnotations.summary,
    isObject(first) && isObject(first.annotations) && first.annotations.summary,
    isObject(v) && v.message,
    isObject(v) && v.why,
    isObject(v) && v.reason,
  ];
  const found = candidates.find((c) => typeof c === 'string' && c.trim() !== '');
  if (typeof found === 'string') return found.slice(0, 500);
  if (isObject(alert) && typeof alert.type === 'string') return `${alert.type} event${typeof alert.id === 'string' ? ` ${alert.id}` : ''}`.slice(0, 500);
  return 'rollback requested';
}

/** The triggering event: the run's trigger, or the event handed to a manual run as input. */
function causeOf(ctx: Ctx): string | undefined {
  if (ctx.run.trigger.type === 'event') return ctx.run.trigger.eventId;
  const input = ctx.input as { id?: unknown } | null;
  return isObject(input) && typeof input.id === 'string' ? input.id.slice(0, 200) : undefined;
}

/** The weights to restore: the canary's record when usable, else STABLE_ROUTE 100. */
async function restoreTarget(ctx: Ctx, cfg: Config, gw: Gateway): Promise<{ weights: Record<string, number>; restored: Restored }> {
  const fallback: Record<string, number> = {};
  for (const name of Object.keys(gw.routes)) fallback[name] = name === cfg.stable ? 100 : 0;
  const records = await ctx.events.query({ tags: `canary:${cfg.gateway}`, type: 'canary.started', limit: 20 });
  const trusted = (e: VeerEvent) =>
    typeof e.source === 'string' && (cfg.canaryWorkflow ? e.source.startsWith(`workflow:${cfg.canaryWorkflow}/`) : e.source.startsWith('workflow:'));
  const record = records.find((e) => trusted(e) && isObject(e.value) && e.value.gateway === cfg.gateway);
  if (!record) {
    const why = records.length
      ? `no canary.started record for ${cfg.gateway} from ${cfg.canaryWorkflow ? `workflow ${cfg.canaryWorkflow}` : 'a workflow'} (${records.length} from other sources ignored)`
      : `no canary.started record for ${cfg.gateway} is visible (permissions.events must grant canary:${cfg.gateway})`;
    ctx.log.info(`${why}: restoring ${cfg.stable} 100`);
    return { weights: fallback, restored: { from: 'stable-100' } };
  }
  const value = record.value as { stableWeights?: unknown; release?: unknown };
  const recorded = isObject(value.stableWeights) ? value.stableWeights : {};
  const weights: Record<string, number> = {};
  for (const name of Object.keys(gw.routes)) weights[name] = Object.hasOwn(recorded, name) ? (recorded[name] as number) : 0;
  const problem = Object.keys(recorded).find((name) => !Object.hasOwn(gw.routes, name))
    ? `it names routes the gateway no longer has (${Object.keys(recorded).join(', ')})`
    : Object.values(weights).some((w) => !Number.isInteger(w) || w < 0 || w > 100)
      ? 'its weights are not whole percentages'
      : Object.values(weights).reduce((a, w) => a + w, 0) !== 100
        ? 'its weights do not add up to 100'
        : (weights[cfg.canary] ?? 0) > 0
          ? `it gives ${cfg.canary} ${weights[cfg.canary]} %`
          : !(weights[cfg.stable] > 0)
            ? `it gives ${cfg.stable} no traffic`
            : undefined;
  if (problem) {
    ctx.log.warn(`the canary's record ${record.id} is not usable: ${problem}; restoring ${cfg.stable} 100`, { stableWeights: recorded });
    return { weights: fallback, restored: { from: 'stable-100' } };
  }
  return { weights, restored: { from: 'canary.started', event: record.id, release: value.release ?? null } };
}

/** CANARY_DEPLOYMENT down to CANARY_MIN_INSTANCES, when it is above; a refusal is reported, not thrown. */
async function scaleCanary(ctx: Ctx, cfg: Config): Promise<CanaryScale | undefined> {
  if (!cfg.deployment) return undefined;
  let from: number;
  try {
    from = (await ctx.deployments.get(cfg.deployment)).desiredInstances;
  } catch (err) {
    const e = err as Error & { code?: string };
    ctx.log.warn(`could not read the canary deployment ${cfg.deployment}`, { error: `${e.code ?? 'ERROR'}: ${e.message}` });
    return { deployment: cfg.deployment, from: null, to: cfg.minInstances, error: `${e.code ?? 'ERROR'}: ${e.message}` };
  }
  if (from <= cfg.minInstances) return undefined;
  const scale: CanaryScale = { deployment: cfg.deployment, from, to: cfg.minInstances };
  try {
    await ctx.deployments.scale(cfg.deployment, { instances: cfg.minInstances });
  } catch (err) {
    // The traffic is already back on stable; a refused scale-down must not fail the rollback.
    const e = err as Error & { code?: string };
    scale.error = `${e.code ?? 'ERROR'}: ${e.message}`;
    const hint = e.code === 'PERMISSION' ? ` (permissions.deployments must allow ${cfg.deployment} down to ${cfg.minInstances})` : '';
    ctx.log[e.code === 'PERMISSION' ? 'warn' : 'error'](`could not scale ${cfg.deployment} down to ${cfg.minInstances}${hint}`, { error: scale.error });
  }
  return scale;
}

export default async function rollbackHook(ctx: Ctx) {
  const cfg = config(ctx.env);
  const alert = ctx.input;
  if (isObject(alert) && isObject(alert.value) && alert.value.status === 'resolved') {
    ctx.log.info('a resolved alert: nothing to roll back');
    return { changed: false, ignored: 'resolved' };
  }
  const gw = await ctx.gateways.get(cfg.gateway);
  if (!gw.routes[cfg.stable])
    fail('STABLE_ROUTE', `gateway '${cfg.gateway}' has no route '${cfg.stable}' (routes: ${Object.keys(gw.routes).join(', ') || 'none'})`);
  const before = weightsOf(gw);
  const { weights, restored } = await restoreTarget(ctx, cfg, gw);
  const cause = causeOf(ctx);
  const reason = summaryOf(ctx.input);

  const weightsChanged = !sameWeights(before, weights);
  if (weightsChanged) {
    await ctx.gateways.setWeights(cfg.gateway, weights, { rollback: { ...(cause ? { cause } : {}), reason } });
    ctx.log.warn(`rolled ${cfg.gateway} back`, { before, after: weights, restored, cause, reason });
  }
  const canaryScale = await scaleCanary(ctx, cfg);
  const changed = weightsChanged || (canaryScale !== undefined && canaryScale.error === undefined);
  if (!changed) {
    ctx.log.info(`${cfg.gateway} is already rolled back: nothing changed`, { weights: before, cause });
    return { changed: false, gateway: cfg.gateway, weights: before, ...(canaryScale ? { canaryScale } : {}) };
  }
  return { changed: true, gateway: cfg.gateway, before, after: weights, restored, cause: cause ?? null, reason, ...(canaryScale ? { canaryScale } : {}) };
}
