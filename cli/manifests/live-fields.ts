import type { Obj } from './api.ts';
import type { Resolved } from './resolve.ts';

/**
 * Fields that releases and autoscalers move at run time: a gateway's route weights (the canary
 * steps them, `veer weights` sets them) and a deployment's instance count (the cron autoscaler,
 * `veer scale`). The manifest's values are where an object starts: applying the files again
 * must not undo a release half-way or scale a service back down, which is what Argo CD users
 * configure by hand with ignoreDifferences. `--reset` applies the manifest's values anyway.
 *
 * Weights are kept only when the manifest names exactly the routes the gateway has: with a
 * route added or removed, the live weights would no longer add up, so the manifest's apply.
 * `live` is the object as GET answers it now (read once by the plan, which also diffs against it).
 */
export function withLiveFields(r: Resolved, live: Obj | undefined): Resolved {
  const { kind } = r.manifest;
  if ((kind !== 'Gateway' && kind !== 'Deployment') || !live) return r;
  if (kind === 'Deployment') {
    const instances = live.desiredInstances;
    return typeof instances === 'number' ? { ...r, body: { ...r.body, instances } } : r;
  }
  const wanted = (r.body.routes ?? {}) as Record<string, Obj>;
  const current = (live.routes ?? {}) as Record<string, Obj>;
  const names = Object.keys(wanted).sort();
  if (names.join('\n') !== Object.keys(current).sort().join('\n')) return r;
  const routes = Object.fromEntries(names.map((n) => [n, { ...wanted[n], weight: current[n]!.weight }]));
  return { ...r, body: { ...r.body, routes } };
}
