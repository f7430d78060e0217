import type { Ctx } from './types.ts';

/**
 * Rollback hook: trigger it on events (e.g. `{ "events": { "tags": ["alerts"], "sources": ["api", "veer"] } }`
 * or an Elasticsearch query trigger on an alert index). Sends all traffic of `GATEWAY` to
 * `STABLE_ROUTE` and announces it (`rollback.applied`, tagged `rollback:<gateway>`: the
 * `gateways:*` tags are Veer's own). Idempotent: rolling back twice changes nothing.
 * Keep `sources` to alert senders: the hook holds gateway permissions, and any workflow
 * may emit an `alerts` event.
 *
 * env: GATEWAY, STABLE_ROUTE ('stable')
 */
export default async function (ctx: Ctx<{ id?: string; tags?: string[]; type?: string } | null>) {
  const gateway = String(ctx.env.GATEWAY);
  const stable = String(ctx.env.STABLE_ROUTE ?? 'stable');
  const gw = await ctx.gateways.get(gateway);
  if (!gw.routes[stable]) throw new Error(`gateway '${gateway}' has no route '${stable}' (routes: ${Object.keys(gw.routes).join(', ')})`);
  const weights: Record<string, number> = {};
  for (const name of Object.keys(gw.routes)) weights[name] = name === stable ? 100 : 0;
  const before: Record<string, number> = {};
  for (const [name, r] of Object.entries(gw.routes)) before[name] = r.weight;
  const changed = Object.keys(weights).some((k) => weights[k] !== before[k]);
  if (changed) await ctx.gateways.setWeights(gateway, weights);
  await ctx.events.emit({
    tags: ['rollback', `rollback:${gateway}`],
    type: 'rollback.applied',
    value: { gateway, stable, cause: ctx.input?.id ?? null, changed },
  });
  ctx.log.info(changed ? 'rolled back' : 'already on the stable route', { before, after: weights });
  return { changed, weights };
}
