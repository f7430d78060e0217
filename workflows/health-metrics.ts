import type { Ctx } from './types.ts';

/**
 * Health and metrics: on each cron tick, computes every gateway's (and route's) health
 * from the last `WINDOW` of traffic and publishes one `gateway.health` event per gateway
 * (tags `health`, `gateways:<name>`), so dashboards, SSE clients and other workflows can
 * react. Health is 1 - errorRate, or null when there is too little traffic to say.
 *
 * env: WINDOW ('1m'), MIN_SAMPLES (10)
 */
export default async function (ctx: Ctx) {
  const window = String(ctx.env.WINDOW ?? '1m');
  const minSamples = Number(ctx.env.MIN_SAMPLES ?? 10);
  const report: Record<string, unknown> = {};
  for (const gw of await ctx.gateways.list()) {
    const total = await ctx.metrics.gateway(gw.name, { window, minSamples });
    const routes: Record<string, unknown> = {};
    for (const route of Object.keys(gw.routes)) {
      const m = await ctx.metrics.gateway(gw.name, { route, window, minSamples });
      routes[route] = { health: m.noData ? null : 1 - (m.errorRate ?? 0), rate: m.rate, p99: m.latency.p99, weight: gw.routes[route].weight };
    }
    const value = { gateway: gw.name, health: total.noData ? null : 1 - (total.errorRate ?? 0), rate: total.rate, p99: total.latency.p99, routes };
    // gateways:* tags and gateway.* types are Veer's own (scripts cannot speak for Veer).
    await ctx.events.emit({ tags: ['health', `health:${gw.name}`], type: 'health.gateway', value });
    report[gw.name] = value;
  }
  return report;
}
