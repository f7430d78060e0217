import { weightsOf } from '../../engine/domain/gateways/model.ts';
import { Backoff } from '../../engine/shared/retry.ts';
import { delay } from '../../engine/shared/wait.ts';
import type { AgentContext } from './agent-context.ts';
import type { AppliedGateway } from './agent-state.ts';
import { renderConfig, weightBackendName } from './render.ts';
import { planServerChanges, type ServerToAdd, type ServerToRemove } from './server-changes.ts';

interface WeightChange {
  backend: string;
  server: string;
  weight: number;
  /** New minus old weight: the order of the commands (raise first). */
  delta: number;
}

/**
 * Applies candidates that differ from `state.applied` only in weights and route servers,
 * through HAProxy's runtime API (no reload). Returns false to mean "fall back to a reload":
 * HAProxy cannot do it at runtime, or a command failed (the reload then brings every server
 * and weight to the candidate config, whatever was already changed). On success the
 * candidates become `state.applied` and the config file follows, so a restart starts from it.
 */
export async function applyRuntime(ctx: AgentContext, candidates: Map<string, AppliedGateway>): Promise<boolean> {
  const { state, api, log } = ctx;
  const changes: WeightChange[] = [];
  const add: ServerToAdd[] = [];
  const remove: ServerToRemove[] = [];
  for (const [name, c] of candidates) {
    const prev = state.applied.get(name)!;
    const before = weightsOf(prev.gateway);
    for (const [route, w] of Object.entries(weightsOf(c.gateway))) {
      if (before[route] !== w) changes.push({ backend: weightBackendName(name), server: route, weight: w, delta: w - (before[route] ?? 0) });
    }
    const servers = planServerChanges(prev, c);
    if (typeof servers === 'string') {
      log.info({ gateway: name, reason: servers }, 'server change needs a reload');
      return false;
    }
    add.push(...servers.add);
    remove.push(...servers.remove);
  }
  // Raise before lowering: HAProxy applies the commands one by one, and lowering first
  // (100/0 → 0/100) would leave a moment with every weight at 0, answered with 503s.
  changes.sort((a, b) => b.delta - a.delta);
  try {
    // New servers first, so a route never runs short while others leave.
    for (const s of add) await api.addServer(s.backend, s.name, s.address, s.options);
    await api.setWeights(changes.map(({ delta: _delta, ...c }) => c));
    for (const s of remove) await api.disableServer(s.backend, s.name);
    const busy = await deleteWhenIdle(ctx, remove);
    if (busy.length && !state.closed) {
      log.warn(
        { servers: busy.map((s) => `${s.backend}/${s.name}`), drainTimeoutMs: ctx.drainTimeoutMs },
        'removed servers still have connections; reloading instead',
      );
      return false;
    }
  } catch (err) {
    log.warn({ err }, 'runtime change failed; reloading instead');
    return false;
  }
  const textChanged = [...candidates].some(([n, c]) => state.applied.get(n)?.text !== c.text);
  state.applied = candidates;
  state.haproxy.serverChanges = (state.haproxy.serverChanges ?? 0) + add.length + remove.length;
  if (textChanged) await ctx.haproxy.persist(renderConfig([...candidates.values()], ctx.render));
  if (changes.length) log.info({ changes: changes.length }, 'weights applied at runtime');
  if (add.length || remove.length)
    log.info({ added: add.map((s) => `${s.backend}/${s.name}`), removed: remove.map((s) => `${s.backend}/${s.name}`) }, 'servers changed at runtime');
  return true;
}

/**
 * `del server` for each (already disabled) server as soon as HAProxy lets it: HAProxy refuses
 * while the server has connections. Going into maintenance closed its idle connections, but
 * requests in flight then hand theirs back to the idle pool: once none is in use, those are
 * dropped too. Polls with a growing pause (10 ms → 200 ms) until `drainTimeoutMs`; returns
 * the servers still busy at the deadline.
 */
async function deleteWhenIdle(ctx: AgentContext, servers: ServerToRemove[]): Promise<ServerToRemove[]> {
  const { api } = ctx;
  const deadline = Date.now() + ctx.drainTimeoutMs;
  // Unjittered: a poll of our own HAProxy, nobody to spread out from.
  const backoff = new Backoff({ minMs: 10, maxMs: 200, jitter: false });
  let pending = servers;
  while (pending.length) {
    const busy: ServerToRemove[] = [];
    for (const s of pending) {
      if ((await api.deleteServer(s.backend, s.name)) === 'deleted') continue;
      const conns = await api.serverConnections(s.backend, s.name);
      if (conns?.used === 0 && conns.idle > 0) {
        await api.dropIdleConnections(s.backend, s.name, s.host, s.port);
        if ((await api.deleteServer(s.backend, s.name)) === 'deleted') continue;
      }
      busy.push(s);
    }
    pending = busy;
    if (!pending.length || ctx.state.closed || Date.now() >= deadline) break;
    await delay(Math.min(backoff.next(), Math.max(deadline - Date.now(), 1)));
  }
  return pending;
}
