import type { Ctx } from './types.ts';

/**
 * Autoscaler: on each cron tick, sizes `DEPLOYMENT` for the request rate its gateway saw
 * (instances = ceil(rate / TARGET_RPS), within MIN..MAX and the workflow's permission
 * bounds). Scales down only after `DOWN_AFTER` consecutive ticks asking for fewer, so a
 * brief lull does not flap. With no traffic data it leaves the deployment alone.
 *
 * env: DEPLOYMENT, GATEWAY, ROUTE (optional), TARGET_RPS (50), MIN (1), MAX (10), WINDOW ('5m'), DOWN_AFTER (3)
 */
export default async function (ctx: Ctx) {
  const e = ctx.env;
  const name = String(e.DEPLOYMENT);
  const min = Number(e.MIN ?? 1);
  const max = Number(e.MAX ?? 10);
  const dep = await ctx.deployments.get(name);
  const m = await ctx.metrics.gateway(String(e.GATEWAY), { route: e.ROUTE ? String(e.ROUTE) : undefined, window: String(e.WINDOW ?? '5m') });
  if (m.noData) {
    ctx.log.info('no traffic data; leaving the deployment as it is', { instances: dep.desiredInstances });
    return { action: 'none', instances: dep.desiredInstances };
  }
  const wanted = Math.min(max, Math.max(min, Math.ceil(m.rate / Number(e.TARGET_RPS ?? 50))));
  const current = dep.desiredInstances;
  if (wanted > current) {
    await ctx.state.set('lowTicks', 0);
    await ctx.deployments.scale(name, { instances: wanted });
    return { action: 'up', from: current, to: wanted, rate: m.rate };
  }
  if (wanted < current) {
    const low = ((await ctx.state.get<number>('lowTicks')) ?? 0) + 1;
    if (low < Number(e.DOWN_AFTER ?? 3)) {
      await ctx.state.set('lowTicks', low);
      return { action: 'wait', from: current, wanted, lowTicks: low };
    }
    await ctx.state.set('lowTicks', 0);
    await ctx.deployments.scale(name, { instances: wanted });
    return { action: 'down', from: current, to: wanted, rate: m.rate };
  }
  await ctx.state.set('lowTicks', 0);
  return { action: 'none', instances: current, rate: m.rate };
}
