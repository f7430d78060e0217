import type { Ctx, EnvValue, GatewayMetrics, PrometheusResult, Signal } from './types.ts';

/**
 * Canary release, Argo Rollouts-style: put it on a cron (and `trigger.signals: true`); every
 * run judges the canary route against the stable route and moves the release one step:
 * STEPS are canary weights, optionally with pauses between them (a duration, or "manual" =
 * until a `promote` signal). A step advances only after a passing check at the current weight
 * (the first step, from 0, needs none); the end of STEPS (or weight 100) promotes. Failed
 * checks and posted `abort` signals roll back: stable 100 / canary 0, the canary deployment
 * scaled down, and a `canary.rolled_back` event with the evidence. Progress lives in
 * ctx.state (`release`, `history`), so the release survives restarts, is visible and
 * resettable through the API, and a retried run is safe (weights are absolute).
 *
 * A release is identified by RELEASE, else by CANARY_DEPLOYMENT's identity (image or command,
 * and labels — local deployments share a command, so label each version, e.g. `version: v2`),
 * else it is 'default'; when the id changes a new release starts, so one workflow serves
 * release after release. A finished release (promoted or rolled back) does
 * nothing until then (or until its state is deleted: DELETE /api/v1/workflows/{name}/state).
 *
 * env (all optional but GATEWAY):
 *   GATEWAY               the gateway whose routes the release moves
 *   STABLE_ROUTE          'stable'
 *   CANARY_ROUTE          'canary'
 *   CANARY_DEPLOYMENT     the canary's deployment: its identity is the release id (unless RELEASE), and it is scaled down on rollback
 *   RELEASE               the release id; a new value starts a new release
 *   CANARY_MIN_INSTANCES  0: what CANARY_DEPLOYMENT is scaled to on rollback (needs permissions.deployments; a refusal is logged, not fatal)
 *   STEPS                 JSON, '[5, 25, 50, 100]': weights (whole percent, increasing); `{ "pause": "5m" }` or `{ "pause": "manual" }`
 *                         pauses after the previous weight; `{ "weight": 25, "pause": "manual" }` is both
 *   WINDOW                '1m': the metrics window of each check (both routes)
 *   MIN_SAMPLES           20: fewer canary requests in the window is noData (hold)
 *   MAX_ERROR_RATE_DELTA  0.01: canary error rate − stable error rate
 *   MAX_P99_RATIO         1.5: canary p99 ≤ ratio × stable p99 …
 *   P99_TOLERANCE_MS      5: … unless within this many ms of stable's (HAProxy times are whole ms: 2 ms vs 1 ms is not "twice as slow")
 *   MAX_ERROR_RATE        0.05: absolute cap on the canary error rate
 *   MAX_P99_MS            1000: absolute cap on the canary p99
 *   ANALYSIS              'builtin': where the numbers come from — Veer's own gateway metrics (ctx.metrics.gateway, from
 *                         HAProxy's traffic log), or 'prometheus' (ctx.metrics.prometheus; needs VEER_PROMETHEUS_URL and a
 *                         Prometheus scraping the agents' exporters, VEER_GATEWAY_AGENT_PROMETHEUS_PORT, e.g. found through
 *                         GET /api/v1/prometheus/targets). The checks are the same; with prometheus the latency checks
 *                         (`latency`, `latencyVsStable`, limits MAX_P99_*) apply to PROM_LATENCY_QUERY's value.
 *   PROM_ERROR_RATE_QUERY PromQL giving a route's error rate 0..1; `$gateway`, `$route`, `$window` (WINDOW) are filled
 *                         in per route. HAProxy's exporter names a route's backend `r.<gateway>.<route>`. Default:
 *                         sum(rate(haproxy_backend_http_responses_total{proxy="r.$gateway.$route",code="5xx"}[$window]))
 *                           / sum(rate(haproxy_backend_http_responses_total{proxy="r.$gateway.$route"}[$window]))
 *   PROM_LATENCY_QUERY    PromQL giving a route's latency in ms. Default (HAProxy's average over the last 1024 requests,
 *                         slowest agent): max(haproxy_backend_response_time_average_seconds{proxy="r.$gateway.$route"}) * 1000
 *   PROM_REQUESTS_QUERY   PromQL giving a route's requests in the window, held to MIN_SAMPLES; 'none' skips it. Default:
 *                         sum(increase(haproxy_backend_http_responses_total{proxy="r.$gateway.$route"}[$window]))
 *                         An empty answer or NaN (no traffic: 0/0) is noData, like too few samples. A query that fails
 *                         (PROMETHEUS.UNAVAILABLE, PROMETHEUS.QUERY) is logged and counts as noData: the canary holds,
 *                         never promotes, and MAX_NO_DATA / ON_NO_DATA apply.
 *   MAX_NO_DATA           5: noData checks in a row before ON_NO_DATA applies
 *   ON_NO_DATA            'abort' (roll back) or 'hold' (keep holding)
 *   FAILURE_LIMIT         2: failed checks that roll the release back — counted over the whole release, not in a row
 *                         (as Argo's failureLimit counts), and reaching it rolls back (as Flagger's threshold; Argo fails one later)
 *
 * Signals (POST /api/v1/workflows/{name}/signals): `abort` rolls back; `promote` ends the pause
 * in force (ignored, and said so, when there is none); `promote-full` sets the canary to 100
 * and promotes. Every run takes all pending signals; abort wins over the others.
 *
 * Promoted leaves the canary route at 100 (point the stable route at the new version next).
 * If the canary weight is found at 0 mid-release (a rollback hook, an operator), the release
 * ends as rolled back rather than stepping traffic back in.
 */

type Step = { weight: number } | { pause: string; ms: number | null };
type Phase = 'progressing' | 'paused' | 'promoted' | 'rolled_back';

interface Release {
  id: string;
  phase: Phase;
  /** Index in STEPS of the step in force; −1 before the first. */
  stepIndex: number;
  /** Canary weight this release set last. */
  weight: number;
  failures: number;
  noDataStreak: number;
  pausedSince: string | null;
  startedAt: string;
  finishedAt?: string;
  /** The gateway's weights before the release (what a rollback hook restores). */
  stableWeights: Record<string, number>;
  reason?: string;
}

interface RouteNumbers {
  /** null: not asked (PROM_REQUESTS_QUERY none) or not answered. */
  requests: number | null;
  errorRate: number | null;
  /** Built-in analysis: the p99; prometheus: PROM_LATENCY_QUERY's value as `latency`. */
  p99?: number | null;
  latency?: number | null;
  noData: boolean;
}
interface Check {
  check: 'errorRate' | 'p99' | 'errorRateDelta' | 'p99VsStable' | 'latency' | 'latencyVsStable';
  value: number | null;
  limit: number;
  ok: boolean;
}
interface Verdict {
  /** `skipped`: canary weight 0, nothing to judge. */
  outcome: 'pass' | 'fail' | 'noData' | 'skipped';
  canary?: RouteNumbers;
  stable?: RouteNumbers;
  checks: Check[];
  note?: string;
}
interface HistoryEntry {
  time: string;
  weight: number;
  action: string;
  phase: Phase;
  verdict: Verdict;
  reason?: string;
  signals?: string[];
  /** Runs merged into this entry (same action, weight and outcome, nothing failed). */
  count?: number;
  last?: string;
}

const DEFAULT_STEPS = '[5, 25, 50, 100]';
/** A route's backend in HAProxy's exporter (adapters/gateway-agent/render.ts): `proxy="r.<gateway>.<route>"`. */
const PROXY = 'proxy="r.$gateway.$route"';
const DEFAULT_QUERIES = {
  errorRate: `sum(rate(haproxy_backend_http_responses_total{${PROXY},code="5xx"}[$window])) / sum(rate(haproxy_backend_http_responses_total{${PROXY}}[$window]))`,
  latency: `max(haproxy_backend_response_time_average_seconds{${PROXY}}) * 1000`,
  requests: `sum(increase(haproxy_backend_http_responses_total{${PROXY}}[$window]))`,
};
const HISTORY_MAX = 100;
// Values are capped at 64 KiB as JSON; history entries are ASCII, so characters are bytes.
const HISTORY_MAX_CHARS = 48 * 1024;
const SIGNALS_MAX = 1000;
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function fail(variable: string, problem: string): never {
  throw new Error(`${variable}: ${problem}`);
}

function text(env: Record<string, EnvValue>, name: string, fallback?: string): string | undefined {
  const v = env[name];
  if (v === undefined || v === null || v === '') return fallback;
  return String(v);
}

function num(env: Record<string, EnvValue>, name: string, fallback: number, o: { min: number; max?: number; int?: boolean }): number {
  const raw = env[name];
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  const kind = o.int ? 'a whole number' : 'a number';
  const range = o.max === undefined ? `≥ ${o.min}` : `between ${o.min} and ${o.max}`;
  if (!Number.isFinite(n) || (o.int && !Number.isInteger(n)) || n < o.min || (o.max !== undefined && n > o.max)) {
    fail(name, `must be ${kind} ${range}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** '500ms' | '30s' | '5m' | '1h' (or a number of ms) → ms; undefined when it is neither. */
function durationMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  const m = typeof v === 'string' ? /^(\d+)(ms|s|m|h)$/.exec(v.trim()) : null;
  return m ? Number(m[1]) * DURATION_UNITS[m[2]] : undefined;
}

/** STEPS → weights and pauses, each checked, naming the offending entry. */
function parseSteps(raw: string): Step[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    fail('STEPS', `not JSON (${(err as Error).message}): ${raw.slice(0, 200)}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) fail('STEPS', 'must be a non-empty JSON array, e.g. [5, 25, {"pause": "manual"}, 100]');
  if (parsed.length > 100) fail('STEPS', `at most 100 steps, got ${parsed.length}`);
  const steps: Step[] = [];
  let previous = 0;
  const weight = (w: unknown, at: string) => {
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 1 || w > 100) fail(at, `a weight must be a whole percent from 1 to 100, got ${JSON.stringify(w)}`);
    if (w <= previous) fail(at, `weights must increase: ${w} after ${previous}`);
    previous = w;
    steps.push({ weight: w });
  };
  parsed.forEach((item: unknown, i: number) => {
    const at = `STEPS[${i}]`;
    if (typeof item === 'number') return weight(item, at);
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      fail(at, `must be a weight or an object like {"pause": "5m"}, got ${JSON.stringify(item)}`);
    }
    const o = item as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== 'weight' && k !== 'pause');
    if (extra.length) fail(at, `unknown field ${extra.map((k) => JSON.stringify(k)).join(', ')} (a step has "weight" and/or "pause")`);
    if (!('weight' in o) && !('pause' in o)) fail(at, 'an object step needs "weight" or "pause"');
    if ('weight' in o) weight(o.weight, at);
    if ('pause' in o) {
      if (o.pause === 'manual') steps.push({ pause: 'manual', ms: null });
      else {
        const ms = durationMs(o.pause);
        if (ms === undefined) fail(at, `a pause is "manual" or a duration like "30s", "5m" or "1h", got ${JSON.stringify(o.pause)}`);
        steps.push({ pause: String(o.pause), ms });
      }
    }
  });
  return steps;
}

function config(env: Record<string, EnvValue>) {
  const gateway = text(env, 'GATEWAY') ?? fail('GATEWAY', 'required: the gateway whose routes the release moves');
  const stable = text(env, 'STABLE_ROUTE', 'stable')!;
  const canary = text(env, 'CANARY_ROUTE', 'canary')!;
  if (stable === canary) fail('CANARY_ROUTE', `must differ from STABLE_ROUTE ('${stable}')`);
  const window = text(env, 'WINDOW', '1m')!;
  const windowMs = durationMs(window);
  if (windowMs === undefined || windowMs < 1000) fail('WINDOW', `must be a duration of at least 1s like "30s" or "1m", got ${JSON.stringify(window)}`);
  const analysis = text(env, 'ANALYSIS', 'builtin')!;
  if (analysis !== 'builtin' && analysis !== 'prometheus') fail('ANALYSIS', `must be "builtin" or "prometheus", got ${JSON.stringify(analysis)}`);
  const requestsQuery = text(env, 'PROM_REQUESTS_QUERY', DEFAULT_QUERIES.requests)!;
  const onNoData = text(env, 'ON_NO_DATA', 'abort')!;
  if (onNoData !== 'abort' && onNoData !== 'hold') fail('ON_NO_DATA', `must be "abort" or "hold", got ${JSON.stringify(onNoData)}`);
  return {
    gateway,
    stable,
    canary,
    deployment: text(env, 'CANARY_DEPLOYMENT'),
    release: text(env, 'RELEASE'),
    minInstances: num(env, 'CANARY_MIN_INSTANCES', 0, { min: 0, int: true }),
    steps: parseSteps(text(env, 'STEPS', DEFAULT_STEPS)!),
    window,
    windowMs,
    analysis: analysis as 'builtin' | 'prometheus',
    queries: {
      errorRate: text(env, 'PROM_ERROR_RATE_QUERY', DEFAULT_QUERIES.errorRate)!,
      latency: text(env, 'PROM_LATENCY_QUERY', DEFAULT_QUERIES.latency)!,
      requests: requestsQuery === 'none' ? null : requestsQuery,
    },
    minSamples: num(env, 'MIN_SAMPLES', 20, { min: 1, int: true }),
    thresholds: {
      maxErrorRateDelta: num(env, 'MAX_ERROR_RATE_DELTA', 0.01, { min: 0, max: 1 }),
      maxP99Ratio: num(env, 'MAX_P99_RATIO', 1.5, { min: 0 }),
      p99ToleranceMs: num(env, 'P99_TOLERANCE_MS', 5, { min: 0 }),
      maxErrorRate: num(env, 'MAX_ERROR_RATE', 0.05, { min: 0, max: 1 }),
      maxP99Ms: num(env, 'MAX_P99_MS', 1000, { min: 0 }),
    },
    maxNoData: num(env, 'MAX_NO_DATA', 5, { min: 1, int: true }),
    onNoData: onNoData as 'abort' | 'hold',
    failureLimit: num(env, 'FAILURE_LIMIT', 2, { min: 1, int: true }),
  };
}
type Config = ReturnType<typeof config>;

const round = (v: number | null, digits: number) => (v === null ? null : Number(v.toFixed(digits)));
const numbers = (m: GatewayMetrics): RouteNumbers => ({
  requests: m.requests,
  errorRate: round(m.errorRate, 4),
  p99: round(m.latency.p99, 1),
  noData: m.noData,
});

/** One route's numbers, whichever analysis read them; `why`: what makes it noData (for the verdict's note). */
interface Reading {
  numbers: RouteNumbers;
  errorRate: number | null;
  latency: number | null;
  noData: boolean;
  why: string;
  /** A Prometheus query failed (never a pass, whichever route it was for). */
  failed?: boolean;
}

const builtinReading = (m: GatewayMetrics, cfg: Config, who: string): Reading => ({
  numbers: numbers(m),
  errorRate: m.errorRate,
  latency: m.latency.p99,
  noData: m.noData,
  why: `${m.samples} ${who} samples, fewer than MIN_SAMPLES ${cfg.minSamples}`,
});

/** A PromQL template with `$gateway`, `$route` and `$window` filled in for one route. */
const fillIn = (query: string, cfg: Config, route: string) =>
  query.replace(/\$(gateway|route|window)\b/g, (_, k: string) => (k === 'gateway' ? cfg.gateway : k === 'route' ? route : cfg.window));

/** The queries a prometheus check sends for a route (also the evidence of a rollback). */
const routeQueries = (cfg: Config, route: string) => ({
  errorRate: fillIn(cfg.queries.errorRate, cfg, route),
  latency: fillIn(cfg.queries.latency, cfg, route),
  ...(cfg.queries.requests ? { requests: fillIn(cfg.queries.requests, cfg, route) } : {}),
});

/** A route's numbers from Prometheus; a failed query (logged) is noData, so it never passes a check. */
async function prometheusReading(ctx: Ctx, cfg: Config, route: string): Promise<Reading> {
  const q = routeQueries(cfg, route);
  const ask = async (query: string): Promise<PrometheusResult | string> => {
    try {
      return await ctx.metrics.prometheus(query);
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e.code !== 'PROMETHEUS.UNAVAILABLE' && e.code !== 'PROMETHEUS.QUERY') throw err;
      ctx.log[e.code === 'PROMETHEUS.QUERY' ? 'error' : 'warn'](`Prometheus query for route '${route}' failed; holding (counts as no data)`, {
        code: e.code,
        error: e.message,
        query,
      });
      return `${e.code}: ${e.message}`;
    }
  };
  const [er, lat, req] = await Promise.all([ask(q.errorRate), ask(q.latency), q.requests ? ask(q.requests) : undefined]);
  const failed = [er, lat, req].find((r): r is string => typeof r === 'string');
  const value = (r: PrometheusResult | string | undefined) => (typeof r === 'object' && !r.noData ? r.value : null);
  const requests = value(req);
  const numbers: RouteNumbers = { requests: round(requests, 1), errorRate: round(value(er), 4), latency: round(value(lat), 1), noData: true };
  let why: string | undefined;
  if (failed) why = `Prometheus query failed (${failed.slice(0, 300)})`;
  else if (typeof er === 'object' && er.noData) why = 'no error rate (no traffic in the window, or no such series)';
  else if (typeof lat === 'object' && lat.noData) why = 'no latency (no such series)';
  else if (req !== undefined && (requests === null || requests < cfg.minSamples))
    why = `${requests ?? 'no'} requests, fewer than MIN_SAMPLES ${cfg.minSamples}`;
  numbers.noData = why !== undefined;
  return { numbers, errorRate: value(er), latency: value(lat), noData: numbers.noData, why: why ?? '', ...(failed ? { failed: true } : {}) };
}

/** One check of both routes over WINDOW: absolute caps always, relative ones when stable has data. */
async function analyse(ctx: Ctx, cfg: Config, weight: number): Promise<Verdict> {
  if (weight === 0) return { outcome: 'skipped', checks: [], note: 'canary weight 0: nothing to judge' };
  let c: Reading;
  let s: Reading;
  if (cfg.analysis === 'prometheus') {
    [c, s] = await Promise.all([prometheusReading(ctx, cfg, cfg.canary), prometheusReading(ctx, cfg, cfg.stable)]);
    // Stable's failure would only skip the relative checks: holding is the safe side of a broken Prometheus.
    if (!c.noData && s.failed) c = { ...c, noData: true, why: `stable: ${s.why}` };
    else if (c.noData) c = { ...c, why: `canary: ${c.why}` };
  } else {
    const q = { window: cfg.windowMs, minSamples: cfg.minSamples };
    const [cm, sm] = await Promise.all([
      ctx.metrics.gateway(cfg.gateway, { ...q, route: cfg.canary }),
      ctx.metrics.gateway(cfg.gateway, { ...q, route: cfg.stable }),
    ]);
    [c, s] = [builtinReading(cm, cfg, 'canary'), builtinReading(sm, cfg, 'stable')];
  }
  const canary = c.numbers;
  const stable = s.numbers;
  if (c.noData) return { outcome: 'noData', canary, stable, checks: [], note: c.why };
  const t = cfg.thresholds;
  const name = cfg.analysis === 'prometheus' ? 'latency' : 'p99';
  const er = c.errorRate ?? 0;
  const lat = c.latency ?? 0;
  const checks: Check[] = [
    { check: 'errorRate', value: round(er, 4), limit: t.maxErrorRate, ok: er <= t.maxErrorRate },
    { check: name, value: round(lat, 1), limit: t.maxP99Ms, ok: lat <= t.maxP99Ms },
  ];
  let note: string | undefined;
  if (s.noData) note = `stable has no data (${s.why}): relative checks skipped, absolute caps applied`;
  else {
    const delta = er - (s.errorRate ?? 0);
    const sLat = s.latency ?? 0;
    const latLimit = Math.max(t.maxP99Ratio * sLat, sLat + t.p99ToleranceMs);
    checks.push(
      { check: 'errorRateDelta', value: round(delta, 4), limit: t.maxErrorRateDelta, ok: delta <= t.maxErrorRateDelta },
      { check: name === 'p99' ? 'p99VsStable' : 'latencyVsStable', value: round(lat, 1), limit: round(latLimit, 1)!, ok: lat <= latLimit },
    );
  }
  const verdict: Verdict = { outcome: checks.every((x) => x.ok) ? 'pass' : 'fail', canary, stable, checks };
  if (note) verdict.note = note;
  return verdict;
}

/** The release id: RELEASE, else the canary deployment's identity, else 'default'. */
async function releaseIdOf(ctx: Ctx, cfg: Config): Promise<string> {
  if (cfg.release) return cfg.release;
  if (!cfg.deployment) return 'default';
  const d = await ctx.deployments.get(cfg.deployment);
  const labels = Object.keys(d.labels ?? {})
    .sort()
    .map((k) => `${k}=${d.labels[k]}`)
    .join(',');
  const what = d.image ?? d.command ?? `deployment:${d.name}`;
  return labels ? `${what} {${labels}}` : what;
}

async function takeAll(ctx: Ctx): Promise<Signal[]> {
  const taken: Signal[] = [];
  for (let i = 0; i < SIGNALS_MAX; i++) {
    const s = await ctx.signals.take();
    if (!s) break;
    taken.push(s);
  }
  return taken;
}

const failedChecks = (v: Verdict) =>
  v.checks
    .filter((c) => !c.ok)
    .map((c) => `${c.check} ${c.value} > ${c.limit}`)
    .join(', ');

function remember(history: HistoryEntry[], entry: HistoryEntry): HistoryEntry[] {
  const prev = history[history.length - 1];
  // A long pause or hold is one entry with a count, so the steps before it stay in the capped history.
  const same =
    prev &&
    prev.action === entry.action &&
    prev.weight === entry.weight &&
    prev.phase === entry.phase &&
    prev.verdict.outcome === entry.verdict.outcome &&
    entry.verdict.outcome !== 'fail' &&
    !entry.signals &&
    !prev.signals &&
    ['paused', 'hold'].includes(entry.action);
  const next = same ? [...history.slice(0, -1), { ...entry, time: prev.time, last: entry.time, count: (prev.count ?? 1) + 1 }] : [...history, entry];
  while (next.length > HISTORY_MAX || (next.length > 1 && JSON.stringify(next).length > HISTORY_MAX_CHARS)) next.shift();
  return next;
}

export default async function canaryRelease(ctx: Ctx) {
  const cfg = config(ctx.env);
  const now = new Date();
  const time = now.toISOString();
  const tags = ['canary', `canary:${cfg.gateway}`];
  const weightsFor = (w: number) => ({ [cfg.stable]: 100 - w, [cfg.canary]: w });

  const gw = await ctx.gateways.get(cfg.gateway);
  for (const [variable, route] of [
    ['STABLE_ROUTE', cfg.stable],
    ['CANARY_ROUTE', cfg.canary],
  ]) {
    if (!gw.routes[route]) fail(variable, `gateway '${cfg.gateway}' has no route '${route}' (routes: ${Object.keys(gw.routes).join(', ') || 'none'})`);
  }
  const id = await releaseIdOf(ctx, cfg);
  let release = await ctx.state.get<Release>('release');
  let history = (await ctx.state.get<HistoryEntry[]>('history')) ?? [];
  const signals = await takeAll(ctx);
  const signalNames = signals.map((s) => s.name);

  if (!release || release.id !== id) {
    if (release && (release.phase === 'progressing' || release.phase === 'paused')) {
      ctx.log.warn(`release '${release.id}' replaced by '${id}' before it finished`, { phase: release.phase, weight: release.weight });
    }
    const stableWeights: Record<string, number> = {};
    for (const [name, r] of Object.entries(gw.routes)) stableWeights[name] = r.weight;
    release = { id, phase: 'progressing', stepIndex: -1, weight: 0, failures: 0, noDataStreak: 0, pausedSince: null, startedAt: time, stableWeights };
    history = [];
    await ctx.events.emit({ tags, type: 'canary.started', value: { gateway: cfg.gateway, release: id, stableWeights, steps: cfg.steps } });
    ctx.log.info(`release '${id}' started`, { stableWeights, steps: cfg.steps });
  }
  const r: Release = release;

  if (r.phase === 'promoted' || r.phase === 'rolled_back') {
    if (signals.length) ctx.log.warn(`release '${r.id}' is ${r.phase}: ignoring signals`, { signals: signalNames });
    else ctx.log.info(`release '${r.id}' is ${r.phase}; a new RELEASE (or canary deployment) starts the next one`);
    return { action: 'none', weight: r.weight, phase: r.phase, verdict: null, release: r.id };
  }

  const verdict = await analyse(ctx, cfg, r.weight);
  const evidence = () => ({
    verdict,
    thresholds: cfg.thresholds,
    minSamples: cfg.minSamples,
    windowMs: cfg.windowMs,
    ...(cfg.analysis === 'prometheus'
      ? { analysis: cfg.analysis, queries: { canary: routeQueries(cfg, cfg.canary), stable: routeQueries(cfg, cfg.stable) } }
      : {}),
  });
  let action = 'hold';
  let reason: string | undefined;

  const finish = async () => {
    history = remember(history, {
      time,
      weight: r.weight,
      action,
      phase: r.phase,
      verdict,
      ...(reason ? { reason } : {}),
      ...(signals.length ? { signals: signalNames } : {}),
    });
    await ctx.state.set('history', history);
    await ctx.state.set('release', r);
    return { action, weight: r.weight, phase: r.phase, verdict, release: r.id, failures: r.failures, ...(reason ? { reason } : {}) };
  };

  const rollback = async (cause: 'failed_checks' | 'abort' | 'no_data' | 'external', why: string, signal?: Signal) => {
    const step = { index: r.stepIndex, weight: r.weight, step: cfg.steps[r.stepIndex] ?? null };
    if (cause !== 'external') {
      await ctx.gateways.setWeights(cfg.gateway, weightsFor(0), {
        rollback: { cause: signal?.id ?? ctx.run.id, reason: `canary ${r.id}: ${why}`.slice(0, 500) },
      });
    }
    let canaryScale: { deployment: string; instances: number; error?: string } | undefined;
    if (cfg.deployment && cause !== 'external') {
      canaryScale = { deployment: cfg.deployment, instances: cfg.minInstances };
      try {
        await ctx.deployments.scale(cfg.deployment, { instances: cfg.minInstances });
      } catch (err) {
        // The traffic is already safe; a scale refusal must not undo the rollback's record.
        const e = err as Error & { code?: string };
        canaryScale.error = `${e.code ?? 'ERROR'}: ${e.message}`;
        ctx.log[e.code === 'PERMISSION' ? 'warn' : 'error'](`could not scale ${cfg.deployment} to ${cfg.minInstances}`, { error: canaryScale.error });
      }
    }
    await ctx.events.emit({
      tags,
      type: 'canary.rolled_back',
      value: {
        gateway: cfg.gateway,
        release: r.id,
        cause,
        reason: why,
        step,
        failures: r.failures,
        ...evidence(),
        ...(signal ? { signal: { id: signal.id, sentBy: signal.sentBy } } : {}),
        ...(canaryScale ? { canaryScale } : {}),
      },
    });
    ctx.log.warn(`release '${r.id}' rolled back: ${why}`, { step, verdict });
    Object.assign(r, { phase: 'rolled_back', weight: 0, finishedAt: time, reason: why, pausedSince: null });
    action = 'rolled_back';
    reason = why;
    return finish();
  };

  const promote = async (by: string) => {
    if (r.weight !== 100) await ctx.gateways.setWeights(cfg.gateway, weightsFor(100));
    Object.assign(r, { phase: 'promoted', weight: 100, finishedAt: time, pausedSince: null });
    await ctx.events.emit({ tags, type: 'canary.promoted', value: { gateway: cfg.gateway, release: r.id, weight: 100, by, failures: r.failures, verdict } });
    ctx.log.info(`release '${r.id}' promoted (${by})`);
    action = 'promoted';
    return finish();
  };

  // Someone (a rollback hook, an operator) took the canary out: stepping on would undo that.
  const live = gw.routes[cfg.canary].weight;
  if (r.weight > 0 && live === 0) return rollback('external', `canary weight found at 0 (was ${r.weight}): rolled back outside this workflow`);
  if (live !== r.weight) ctx.log.warn(`canary weight is ${live}, this release set ${r.weight}; the next step sets it again`);

  const abort = signals.find((s) => s.name === 'abort');
  if (abort) return rollback('abort', `abort signal from ${abort.sentBy}`, abort);
  const full = signals.find((s) => s.name === 'promote-full');
  if (full) return promote(`promote-full signal from ${full.sentBy}`);
  const unknown = signalNames.filter((n) => n !== 'promote');
  if (unknown.length) ctx.log.warn('ignoring unknown signals (abort, promote, promote-full are understood)', { signals: unknown });

  // A pause ends on promote or when its time is up; leaving it still needs a passing check.
  const promoted = signalNames.includes('promote');
  if (r.phase === 'paused') {
    const step = cfg.steps[r.stepIndex];
    const elapsed = now.getTime() - Date.parse(r.pausedSince ?? time);
    const over = !step || !('pause' in step) || (step.ms !== null && elapsed >= step.ms);
    if (promoted || over) {
      ctx.log.info(promoted ? 'pause ended by a promote signal' : `pause of ${step && 'pause' in step ? step.pause : '?'} is over`);
      Object.assign(r, { phase: 'progressing', pausedSince: null });
    }
  } else if (promoted) ctx.log.warn('promote ignored: no pause in force (it ends a pause; promote-full jumps to 100)');

  if (verdict.outcome === 'fail') {
    r.failures++;
    r.noDataStreak = 0;
    const why = `${r.failures} failed check(s), FAILURE_LIMIT ${cfg.failureLimit}: ${failedChecks(verdict)}`;
    if (r.failures >= cfg.failureLimit) return rollback('failed_checks', why);
    ctx.log.warn(`check failed at weight ${r.weight}; holding`, { failures: r.failures, verdict });
    reason = why;
    return finish();
  }
  if (verdict.outcome === 'noData') {
    r.noDataStreak++;
    const why = `no canary data for ${r.noDataStreak} check(s) in a row (MAX_NO_DATA ${cfg.maxNoData}, ON_NO_DATA ${cfg.onNoData})`;
    if (r.noDataStreak >= cfg.maxNoData && cfg.onNoData === 'abort') return rollback('no_data', why);
    ctx.log.warn(`not enough canary traffic to judge; holding at ${r.weight}`, {
      samples: verdict.canary?.requests,
      noDataStreak: r.noDataStreak,
      note: verdict.note,
    });
    reason = why;
    return finish();
  }
  r.noDataStreak = 0;
  if (r.phase === 'paused') {
    action = 'paused';
    return finish();
  }

  // Advance one weight, then enter the pause that follows it, if any.
  const next = r.stepIndex + 1;
  const step = cfg.steps[next];
  if (!step) return promote('steps');
  if ('pause' in step) {
    Object.assign(r, { stepIndex: next, phase: 'paused', pausedSince: time });
    action = 'paused';
    return finish();
  }
  await ctx.gateways.setWeights(cfg.gateway, weightsFor(step.weight));
  Object.assign(r, { stepIndex: next, weight: step.weight });
  if (step.weight === 100) return promote('steps');
  const after = cfg.steps[next + 1];
  if (after && 'pause' in after) Object.assign(r, { stepIndex: next + 1, phase: 'paused', pausedSince: time });
  action = 'step';
  ctx.log.info(`canary at ${step.weight}%`, { phase: r.phase, verdict: verdict.outcome });
  return finish();
}
