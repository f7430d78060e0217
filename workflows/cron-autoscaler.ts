import type { Ctx, Deployment, EnvValue, GatewayMetrics } from './types.ts';

/**
 * Cron autoscaler with the Kubernetes HPA rule: put it on a cron; each run sizes DEPLOYMENT
 * for what its gateway (ROUTE, optional) measured over WINDOW:
 *
 *   recommendation = ceil(current × metric / TARGET), clamped to MIN..MAX
 *
 * with no change while |metric / TARGET − 1| ≤ TOLERANCE (10 %), so noise does not resize.
 * `current` is the deployment's desiredInstances: what the scheduler was asked for, what a
 * change starts from and what the result's `from` says.
 *
 * METRIC 'rps' (default): requests per second per *ready* instance, TARGET per-instance rps.
 * Only ready instances are in the gateway's routes, so the load is spread over them; and since
 * ready × (rate / ready) / TARGET = rate / TARGET, the recommendation is ceil(rate / TARGET)
 * however many instances are still starting. Scaling up while instances are still becoming
 * ready is checked the way HPA treats unready pods: they are counted as taking their share
 * (rate / (current × TARGET)); if that is within tolerance, nothing changes, so a scale-up is
 * not repeated on instances that are about to take traffic.
 * METRIC 'p99': the route's p99 latency in ms, TARGET in ms; the base is the ready instances
 * (HPA ignores unready pods when scaling down), and scaling up waits until every instance is
 * ready, because latency cannot tell yet what the starting ones will take.
 *
 * Scale-down stabilisation (HPA's behavior.scaleDown.stabilizationWindowSeconds): the
 * recommendations of the last STABILIZATION are kept in state (key `autoscaler`), and a
 * scale-down goes only to the highest of them, so a lull shorter than the window never
 * shrinks the deployment. Only recommendations that can still win are kept (an older one not
 * above a newer one never can), so the state stays small at any tick rate. Scale-up has no
 * window (HPA's default), so a burst is answered on the next tick.
 *
 * COOLDOWN: after a change, no scale-down until it has passed, so the metric reflects the new
 * size before the next step down. Scale-up is not held by it — availability first, as HPA has
 * no scale-up delay by default; the ready-instances check above is what keeps it from stacking
 * scale-ups on instances that are still starting.
 *
 * noData (fewer than MIN_SAMPLES requests in WINDOW, or no p99): the deployment is left alone
 * and nothing is recorded. So is a deployment at 0 instances (as HPA, scaling to zero by hand
 * turns autoscaling off until it is scaled up again) and one without ready instances.
 *
 * Bounds: Veer refuses (PermissionError, the run fails) a scale outside the workflow's
 * `permissions.deployments` bounds, it never clamps: MIN and MAX must lie within them.
 *
 * env (all optional but DEPLOYMENT and GATEWAY):
 *   DEPLOYMENT     the deployment to size
 *   GATEWAY        the gateway whose traffic it serves; ROUTE: one of its routes (default: the whole gateway)
 *   METRIC         'rps' (default) or 'p99'
 *   TARGET         per-instance rps (default 50) or p99 ms (required with METRIC p99)
 *   MIN, MAX       1, 10: instance bounds (within permissions.deployments)
 *   TOLERANCE      0.1
 *   WINDOW         '1m': the metrics window each run reads
 *   MIN_SAMPLES    10: fewer requests in WINDOW is noData
 *   STABILIZATION  '5m': scale-down stabilisation window ('0s' turns it off)
 *   COOLDOWN       '1m': no scale-down for this long after a change ('0s' turns it off)
 *
 * Result: { action: 'up' | 'down' | 'hold' | 'none', from, to, metric, recommendation, reason, at }
 * — 'hold' when the recommendation differs from the size but the window or cooldown keeps it.
 */

type MetricName = 'rps' | 'p99';
type Action = 'up' | 'down' | 'hold' | 'none';

interface Config {
  deployment: string;
  gateway: string;
  route?: string;
  metric: MetricName;
  target: number;
  min: number;
  max: number;
  tolerance: number;
  window: string;
  minSamples: number;
  stabilizationMs: number;
  cooldownMs: number;
}

interface Recommendation {
  at: string;
  instances: number;
}

interface AutoscalerState {
  deployment: string;
  /** Within STABILIZATION, strictly decreasing in `instances` from oldest to newest. */
  recommendations: Recommendation[];
  lastChange: { at: string; from: number; to: number } | null;
}

interface MetricReading {
  name: MetricName;
  /** rps per ready instance, or p99 ms. */
  value: number;
  target: number;
  /** value / target. */
  ratio: number;
  /** The gateway's (route's) request rate over the window. */
  rate: number;
  ready: number;
}

interface AutoscalerResult {
  action: Action;
  from: number;
  to: number;
  metric: MetricReading | null;
  /** This tick's recommendation within MIN..MAX, before stabilisation and cooldown; null when there was nothing to judge. */
  recommendation: number | null;
  reason: string;
  /** The time this run judged at (ISO-8601): the times in state are the same clock. */
  at: string;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function fail(variable: string, problem: string): never {
  throw new Error(`${variable}: ${problem}`);
}

function text(env: Record<string, EnvValue>, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

function num(env: Record<string, EnvValue>, name: string, fallback: number | undefined, check: (n: number) => boolean, expect: string): number {
  const raw = text(env, name);
  if (raw === undefined) {
    if (fallback === undefined) fail(name, `required: ${expect}`);
    return fallback;
  }
  const n = Number(raw);
  if (!Number.isFinite(n) || !check(n)) fail(name, `must be ${expect}, got ${JSON.stringify(env[name])}`);
  return n;
}

function durationMs(env: Record<string, EnvValue>, name: string, fallback: string): number {
  const v = env[name] ?? fallback;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  const m = typeof v === 'string' ? /^(\d+)(ms|s|m|h)$/.exec(v.trim()) : null;
  if (!m) fail(name, `must be a duration like "30s", "5m" or "1h" (or ms), got ${JSON.stringify(v)}`);
  return Number(m[1]) * DURATION_UNITS[m[2]];
}

function config(env: Record<string, EnvValue>): Config {
  // The variables of the previous version of this script: silently ignoring them would change behaviour.
  if (text(env, 'TARGET_RPS') !== undefined) fail('TARGET_RPS', 'replaced by TARGET (per-instance rps with METRIC rps)');
  if (text(env, 'DOWN_AFTER') !== undefined) fail('DOWN_AFTER', 'replaced by STABILIZATION (a scale-down window, e.g. "5m")');
  const deployment = text(env, 'DEPLOYMENT') ?? fail('DEPLOYMENT', 'required: the deployment to size');
  const gateway = text(env, 'GATEWAY') ?? fail('GATEWAY', 'required: the gateway whose traffic the deployment serves');
  const metric = (text(env, 'METRIC') ?? 'rps') as MetricName;
  if (metric !== 'rps' && metric !== 'p99') fail('METRIC', `must be "rps" or "p99", got ${JSON.stringify(env.METRIC)}`);
  const target = num(
    env,
    'TARGET',
    metric === 'rps' ? 50 : undefined,
    (n) => n > 0,
    metric === 'rps' ? 'per-instance requests per second > 0' : 'the p99 target in ms (> 0)',
  );
  const int = (n: number) => Number.isInteger(n) && n >= 0;
  const min = num(env, 'MIN', 1, (n) => int(n) && n >= 1, 'a whole number ≥ 1');
  const max = num(env, 'MAX', 10, int, 'a whole number');
  if (max < min) fail('MAX', `must be ≥ MIN (${min}), got ${max}`);
  const window = text(env, 'WINDOW') ?? '1m';
  if (durationMs(env, 'WINDOW', '1m') < 1000) fail('WINDOW', `must be at least 1s, got ${JSON.stringify(window)}`);
  return {
    deployment,
    gateway,
    route: text(env, 'ROUTE'),
    metric,
    target,
    min,
    max,
    tolerance: num(env, 'TOLERANCE', 0.1, (n) => n >= 0 && n < 1, 'a fraction ≥ 0 and < 1'),
    window,
    minSamples: num(env, 'MIN_SAMPLES', 10, (n) => int(n) && n >= 1, 'a whole number ≥ 1'),
    stabilizationMs: durationMs(env, 'STABILIZATION', '5m'),
    cooldownMs: durationMs(env, 'COOLDOWN', '1m'),
  };
}

const round = (n: number, places = 3) => Math.round(n * 10 ** places) / 10 ** places;
/** ceil that does not turn 2.0000000001 (float noise of an exact 2) into 3. */
const ceil = (n: number) => Math.ceil(n - 1e-9);
const clamp = (n: number, cfg: Config) => Math.min(cfg.max, Math.max(cfg.min, n));

function reading(cfg: Config, m: GatewayMetrics, ready: number): MetricReading | null {
  const value = cfg.metric === 'rps' ? m.rate / ready : m.latency.p99;
  if (value === null || !Number.isFinite(value)) return null;
  return { name: cfg.metric, value: round(value), target: cfg.target, ratio: round(value / cfg.target, 4), rate: round(m.rate), ready };
}

/** The HPA rule for this tick, before MIN..MAX: the instances asked for and why. */
function recommend(cfg: Config, dep: Deployment, m: GatewayMetrics, r: MetricReading): { instances: number; why: string } {
  const current = dep.desiredInstances;
  const ratio = r.value / cfg.target;
  const what = cfg.metric === 'rps' ? `${r.value} rps per ready instance` : `p99 ${r.value} ms`;
  // The epsilon keeps float noise (55 / 50 − 1 = 0.10000000000000009) on the side of "within".
  if (Math.abs(ratio - 1) <= cfg.tolerance + 1e-9) {
    return { instances: current, why: `${what} is within ${round(cfg.tolerance * 100, 2)} % of the target ${cfg.target}` };
  }
  const starting = current - dep.readyInstances;
  if (ratio > 1 && starting > 0) {
    if (cfg.metric === 'p99') {
      return {
        instances: current,
        why: `${what} is above the target ${cfg.target}, but ${starting} instance(s) are not ready yet: waiting for them before scaling up`,
      };
    }
    const shared = m.rate / (current * cfg.target);
    if (shared <= 1 + cfg.tolerance) {
      return {
        instances: current,
        why: `${what} is above the target ${cfg.target}, but with the ${starting} instance(s) still becoming ready taking their share it is ${round(m.rate / current)} rps each`,
      };
    }
  }
  if (cfg.metric === 'rps') {
    return { instances: ceil(m.rate / cfg.target), why: `${what} vs target ${cfg.target}: ceil(${r.rate} rps / ${cfg.target}) = ${ceil(m.rate / cfg.target)}` };
  }
  const base = Math.min(dep.readyInstances, current);
  return { instances: ceil(base * ratio), why: `${what} vs target ${cfg.target}: ceil(${base} × ${round(ratio, 4)}) = ${ceil(base * ratio)}` };
}

export default async function cronAutoscaler(ctx: Ctx): Promise<AutoscalerResult> {
  const cfg = config(ctx.env);
  const now = Date.now();
  const at = new Date(now).toISOString();
  const dep = await ctx.deployments.get(cfg.deployment);
  const current = dep.desiredInstances;
  const done = (action: Action, to: number, metric: MetricReading | null, recommendation: number | null, reason: string): AutoscalerResult => {
    ctx.log.info(`${action}: ${reason}`, { from: current, to, recommendation, metric });
    return { action, from: current, to, metric, recommendation, reason, at };
  };

  if (current === 0) return done('none', 0, null, null, `${cfg.deployment} is scaled to 0: autoscaling is off until it is scaled up`);
  if (dep.readyInstances === 0) return done('none', current, null, null, `${cfg.deployment} has no ready instance: nothing serves traffic to measure`);
  const m = await ctx.metrics.gateway(cfg.gateway, { ...(cfg.route ? { route: cfg.route } : {}), window: cfg.window, minSamples: cfg.minSamples });
  const target = cfg.route ? `${cfg.gateway}/${cfg.route}` : cfg.gateway;
  if (m.noData) {
    return done(
      'none',
      current,
      null,
      null,
      `no data: ${m.requests} request(s) on ${target} in ${cfg.window} (fewer than ${cfg.minSamples}); leaving ${cfg.deployment} alone`,
    );
  }
  const r = reading(cfg, m, dep.readyInstances);
  if (!r) return done('none', current, null, null, `no ${cfg.metric} on ${target} in ${cfg.window}; leaving ${cfg.deployment} alone`);

  const raw = recommend(cfg, dep, m, r);
  const recommendation = clamp(raw.instances, cfg);
  const bounded = recommendation === raw.instances ? raw.why : `${raw.why}, within MIN..MAX ${cfg.min}..${cfg.max}: ${recommendation}`;
  ctx.log.info(`recommendation ${recommendation}: ${bounded}`, { metric: r, current, ready: dep.readyInstances });

  let state = await ctx.state.get<AutoscalerState>('autoscaler');
  if (!state || state.deployment !== cfg.deployment) state = { deployment: cfg.deployment, recommendations: [], lastChange: null };
  const cutoff = now - cfg.stabilizationMs;
  // Keep what is inside the window and can still be its highest: an entry not above a newer one never will be.
  const kept = state.recommendations.filter((x) => Date.parse(x.at) > cutoff && x.instances > recommendation);
  const recommendations = cfg.stabilizationMs > 0 ? [...kept, { at, instances: recommendation }] : [];
  const highest = Math.max(recommendation, ...kept.map((x) => x.instances));

  let action: Action;
  let to = current;
  let reason: string;
  if (recommendation > current) {
    action = 'up';
    to = recommendation;
    reason = `${bounded}: scaling up ${current} → ${to}`;
  } else if (recommendation === current) {
    action = 'none';
    reason = `${bounded}: ${cfg.deployment} already has ${current}`;
  } else if (highest >= current) {
    action = 'hold';
    const since = kept.find((x) => x.instances === highest)?.at ?? at;
    reason = `${bounded}, but the highest recommendation within the last ${cfg.stabilizationMs / 1000} s is ${highest} (at ${since}): not scaling down yet`;
  } else {
    const cooling = state.lastChange ? Date.parse(state.lastChange.at) + cfg.cooldownMs - now : 0;
    if (cooling > 0) {
      action = 'hold';
      reason = `${bounded}, but the last change (${state.lastChange!.from} → ${state.lastChange!.to} at ${state.lastChange!.at}) is cooling down for another ${round(cooling / 1000, 1)} s`;
    } else {
      action = 'down';
      to = highest;
      reason =
        highest === recommendation
          ? `${bounded}: scaling down ${current} → ${to}`
          : `${bounded}; the highest recommendation within the last ${cfg.stabilizationMs / 1000} s is ${highest}: scaling down ${current} → ${to}`;
    }
  }

  // Outside the permission bounds this is refused and the run fails: MIN..MAX must lie within them.
  if (to !== current) await ctx.deployments.scale(cfg.deployment, { instances: to });
  await ctx.state.set('autoscaler', {
    deployment: cfg.deployment,
    recommendations,
    lastChange: to !== current ? { at, from: current, to } : state.lastChange,
  } satisfies AutoscalerState);
  return done(action, to, r, recommendation, reason);
}
