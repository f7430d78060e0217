import { readFile, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import { errorText, type AgentContext } from './agent-context.ts';
import type { AppliedGateway, GatewayFailure } from './agent-state.ts';
import { configPath, renderBase, renderConfig, routeSocketPath } from './render.ts';

/**
 * Full config render + hitless reload (haproxy-process.ts does the reload itself). Each changed
 * gateway is checked on its own first, so one bad gateway cannot hold back the others; then
 * the combined config is validated and applied, and a gateway HAProxy blames is put back to
 * its applied version (or dropped) and the rest tried again.
 */
export async function applyReload(ctx: AgentContext, candidates: Map<string, AppliedGateway>, failures: Map<string, GatewayFailure>): Promise<void> {
  const { state, haproxy, log } = ctx;
  const revert = (name: string, error: string) => {
    const c = candidates.get(name)!;
    failures.set(name, { revision: state.desired.get(name)?.revision ?? c.revision, error });
    const prev = state.applied.get(name);
    if (prev && prev !== c) candidates.set(name, prev);
    else candidates.delete(name);
  };
  const changed = () => [...candidates.keys()].filter((n) => state.applied.get(n) !== candidates.get(n));

  const held = new Set([...state.applied.values()].map((a) => a.gateway.port).concat([...state.adoptedPorts]));
  for (const [name, c] of [...candidates]) {
    if (state.applied.get(name) === c) continue;
    const error = await precheck(ctx, c, held);
    if (error) revert(name, error);
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const config = renderConfig([...candidates.values()], ctx.render);
    try {
      const check = await haproxy.validate(config);
      if (!check.ok) throw new Error(`HAProxy rejected the combined config: ${check.output}`);
      const wasRunning = await haproxy.running();
      // Died while this pass ran (validating takes a while): the watchdog restarts it, paced and
      // counted, and schedules another pass; starting it here would skip both.
      if (!wasRunning && !state.forceReload) return;
      await haproxy.apply(config);
      state.startedHaproxy ||= !wasRunning;
      state.haproxy.lastReloadAt = new Date().toISOString();
      state.haproxy.lastError = undefined;
      state.applied = candidates;
      state.forceReload = false;
      state.adoptedPorts.clear();
      await removeStaleSockets(ctx);
      return;
    } catch (err) {
      const message = errorText(err);
      state.haproxy.lastError = message;
      // Blame the gateways HAProxy names (e.g. "cannot bind socket" for g.<name>) and retry without their change.
      const blamed = changed().filter(
        (n) => message.includes(`g.${n}]`) || message.includes(`g.${n}:`) || message.includes(`'g.${n}'`) || message.includes(`r.${n}.`),
      );
      const reverted = blamed.length ? blamed : changed();
      for (const n of reverted) revert(n, message);
      log.warn({ err: message, blamed: reverted }, 'HAProxy config not applied; keeping the last good version of the gateways involved');
      if (!blamed.length) break;
    }
  }
  // Nothing changed in HAProxy: `state.applied` stays as it was (previous versions stay reported).
}

/**
 * On start: adopt the HAProxy a previous agent left running — it keeps serving its config
 * until the first list from the store replaces it (even if that is empty) — or start one at
 * once with no gateways, so the stats/health listener answers before the store does.
 */
export async function adoptOrStartHaproxy(ctx: AgentContext): Promise<void> {
  const { state, haproxy } = ctx;
  state.haproxy.running = await haproxy.running();
  if (state.haproxy.running) {
    state.forceReload = true;
    const previous = await readFile(configPath(ctx.render.dir), 'utf8').catch(() => '');
    for (const m of previous.matchAll(/^\s*bind\s+[^\s@]+:(\d+)\s*$/gm)) state.adoptedPorts.add(Number(m[1]));
  } else {
    await haproxy.apply(renderConfig([], ctx.render));
    state.startedHaproxy = true;
    state.haproxy.running = true;
  }
}

/** Why this new gateway version cannot be applied, or undefined. `held`: ports HAProxy holds already (ours to rebind). */
async function precheck(ctx: AgentContext, c: AppliedGateway, held: Set<number>): Promise<string | undefined> {
  const ro = ctx.render;
  if (c.gateway.port === ro.statsPort) return `port ${c.gateway.port} is the agent's stats port`;
  if (c.gateway.port === ro.prometheus?.port) return `port ${c.gateway.port} is the agent's Prometheus exporter port`;
  const check = await ctx.haproxy.validate(renderBase(ro) + '\n' + c.text);
  if (!check.ok) return `HAProxy rejected the rendered config: ${check.output}`;
  // A port taken by another process would fail the whole reload only after HAProxy has
  // paused the old listeners and retried for seconds: find out first.
  if (!held.has(c.gateway.port)) {
    const busy = await portBusy(ro.bindAddress === '*' ? '0.0.0.0' : ro.bindAddress, c.gateway.port);
    if (busy) return `cannot bind ${ro.bindAddress}:${c.gateway.port}: ${busy} (another process holds it)`;
  }
  return undefined;
}

/** Undefined when the port can be bound, else the reason (EADDRINUSE, EACCES…). */
function portBusy(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(undefined)));
  });
}

/** Route sockets of routes that are gone (HAProxy leaves the files behind). */
async function removeStaleSockets(ctx: AgentContext): Promise<void> {
  const dir = ctx.render.dir;
  const keep = new Set(
    [...ctx.state.applied.values()].flatMap((a) => Object.keys(a.gateway.routes).map((r) => basename(routeSocketPath(dir, a.gateway.name, r)))),
  );
  const files = await readdir(join(dir, 'r')).catch(() => [] as string[]);
  await Promise.all(files.filter((f) => f.endsWith('.sock') && !keep.has(f)).map((f) => rm(join(dir, 'r', f), { force: true })));
}
