import type { Ctx } from './types.ts';

/**
 * Canary release: every run (put it on a cron, e.g. every minute) checks the canary
 * route's metrics and moves `STEP` percent of traffic to it while it is healthy, rolls
 * back after `FAILURES` unhealthy checks in a row, and holds — neither promoting nor
 * failing — while there is too little traffic to judge. Progress lives in ctx.state, so
 * the release survives restarts and is safe to run again (weights are absolute).
 *
 * env: GATEWAY, STABLE_ROUTE, CANARY_ROUTE, STEP (10), MAX_WEIGHT (100),
 *      MAX_ERROR_RATE (0.01), MAX_P99_MS (500), WINDOW ('1m'), MIN_SAMPLES (20), FAILURES (2)
 */
export default async function (ctx: Ctx) {
  const e = ctx.env;
  const gateway = String(e.GATEWAY);
  const stable = String(e.STABLE_ROUTE ?? 'stable');
  const canary = String(e.CANARY_ROUTE ?? 'canary');
  const step = Number(e.STEP ?? 10);
  const maxWeight = Number(e.MAX_WEIGHT ?? 100);
  const maxErrorRate = Number(e.MAX_ERROR_RATE ?? 0.01);
  const maxP99 = Number(e.MAX_P99_MS ?? 500);
  const threshold = Number(e.FAILURES ?? 2);

  const phase = (await ctx.state.get<string>('phase')) ?? 'progressing';
  if (phase !== 'progressing') {
    ctx.log.info(`release already ${phase}; reset with ctx.state or a new workflow version`);
    return { action: 'none', phase };
  }
  const gw = await ctx.gateways.get(gateway);
  const weight = gw.routes[canary]?.weight ?? 0;
  const m = await ctx.metrics.gateway(gateway, { route: canary, window: String(e.WINDOW ?? '1m'), minSamples: Number(e.MIN_SAMPLES ?? 20) });

  if (weight > 0 && m.noData) {
    ctx.log.warn('not enough canary traffic to judge; holding', { samples: m.samples, weight });
    return { action: 'hold', weight, samples: m.samples };
  }
  const unhealthy = weight > 0 && ((m.errorRate ?? 0) > maxErrorRate || (m.latency.p99 ?? 0) > maxP99);
  if (unhealthy) {
    const failures = ((await ctx.state.get<number>('failures')) ?? 0) + 1;
    await ctx.state.set('failures', failures);
    ctx.log.warn('canary unhealthy', { errorRate: m.errorRate, p99: m.latency.p99, failures, threshold });
    if (failures < threshold) return { action: 'hold', weight, failures };
    await ctx.gateways.setWeights(gateway, { [stable]: 100, [canary]: 0 });
    await ctx.state.set('phase', 'rolled_back');
    await ctx.events.emit({
      tags: ['canary', `canary:${gateway}`],
      type: 'canary.rolled_back',
      value: { gateway, canary, errorRate: m.errorRate, p99: m.latency.p99 },
    });
    return { action: 'rollback', weight: 0 };
  }
  await ctx.state.set('failures', 0);
  const next = Math.min(weight + step, maxWeight);
  if (next !== weight) await ctx.gateways.setWeights(gateway, { [stable]: 100 - next, [canary]: next });
  if (next >= maxWeight) {
    await ctx.state.set('phase', 'promoted');
    await ctx.events.emit({ tags: ['canary', `canary:${gateway}`], type: 'canary.promoted', value: { gateway, canary, weight: next } });
    return { action: 'promoted', weight: next };
  }
  return { action: 'step', weight: next, errorRate: m.errorRate, p99: m.latency.p99 };
}
