import { readFile, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import type { KvStore } from '../../engine/ports/kv-store.ts';
import type { AgentGatewayStatus, AgentStatus } from '../../engine/domain/gateways/keys.ts';
import { isDeploymentTarget, weightsOf, type Gateway, type StaticTarget } from '../../engine/domain/gateways/model.ts';
import { validateGateway } from '../../engine/domain/gateways/validate.ts';
import type { Logger } from '../../engine/shared/logger.ts';
import { createGatewayWatcher, type StoredGateway } from './gateway-watcher.ts';
import type { HaproxyProcess } from './haproxy-process.ts';
import { adminSocketPath, configPath, renderBase, renderConfig, renderGateway, renderSkeleton, routeSocketPath, weightBackendName, type RenderOptions, type RenderableGateway } from './render.ts';
import { createRuntimeApi } from './runtime-api.ts';
import { planServerChanges, type ServerToAdd, type ServerToRemove } from './server-changes.ts';
import { createStatusReporter } from './status-reporter.ts';

export type ResolveTargets = (deployment: string, port: string | number) => Promise<StaticTarget[]>;

export interface GatewayAgentOptions {
  kv: KvStore;
  logger: Logger;
  agentId: string;
  haproxy: HaproxyProcess;
  render: RenderOptions;
  /** Resolves `{ deployment, port }` targets; without it such routes have no servers (reported). */
  resolveTargets?: ResolveTargets;
  heartbeatMs?: number;
  /**
   * How long a route server removed at runtime may take to finish its connections before the
   * agent gives up and reloads instead (default 10 s).
   */
  drainTimeoutMs?: number;
  /** Stop HAProxy on close: 'auto' (default) stops it only if this agent started it. */
  stopHaproxy?: boolean | 'auto';
}

export interface GatewayAgent {
  start(): Promise<void>;
  /** Resolves once every change seen so far is applied (or failed). */
  idle(): Promise<void>;
  /** Re-resolves deployment targets now (their endpoints changed); servers come and go at runtime where HAProxy allows it. */
  refresh(): void;
  status(): AgentStatus;
  close(): Promise<void>;
}

interface Applied extends RenderableGateway {
  revision: string;
  text: string;
  /** Everything but weights and route servers: equal skeletons can be applied at runtime. */
  skeleton: string;
  routesWithoutTargets: string[];
}

/** Undefined when the port can be bound, else the reason (EADDRINUSE, EACCES…). */
function portBusy(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(undefined)));
  });
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * The gateway agent: keeps one HAProxy in step with the gateways in the KV store.
 * Weight changes and route servers coming and going (deployment instances) go through the
 * runtime API (no reload) where HAProxy allows it; anything else is validated
 * (per gateway, then as a whole) and applied by a hitless reload. A gateway that cannot be
 * applied keeps its last good version and is reported; the others still go ahead.
 */
export function createGatewayAgent(options: GatewayAgentOptions): GatewayAgent {
  const { kv, haproxy, agentId } = options;
  const log = options.logger.child({ component: 'gateway-agent', agentId });
  const ro = options.render;
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const api = createRuntimeApi(adminSocketPath(ro.dir));
  const startedAt = new Date().toISOString();

  let desired: ReadonlyMap<string, StoredGateway> = new Map();
  let applied = new Map<string, Applied>();
  const gatewayStatus = new Map<string, AgentGatewayStatus>();
  const kvState: AgentStatus['kv'] = { kind: kv.kind, connected: false };
  const hapState: AgentStatus['haproxy'] = { running: false, reloads: 0, serverChanges: 0 };
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  let startedHaproxy = false;
  let forceReload = false;
  /** Ports an adopted HAProxy (left running by a previous agent) listens on: ours to take over, not busy. */
  const adoptedPorts = new Set<number>();
  let closed = false;
  let heartbeatTimer: NodeJS.Timeout | undefined;

  // Single-flight reconcile: changes arriving meanwhile set `dirty` and cause one more pass.
  let dirty = false;
  let running: Promise<void> | undefined;
  const schedule = () => {
    dirty = true;
    running ??= (async () => {
      while (dirty && !closed) {
        dirty = false;
        try {
          await reconcile();
        } catch (err) {
          log.error({ err }, 'reconcile failed');
        }
      }
    })().finally(() => {
      running = undefined;
    });
  };

  const watcher = createGatewayWatcher({
    kv,
    logger: log,
    onChange: (d) => {
      desired = new Map(d);
      schedule();
    },
    onConnection: (connected, err) => setKv(connected, err),
  });

  function setKv(connected: boolean, err?: unknown) {
    const wasDown = !kvState.connected;
    kvState.connected = connected;
    if (!connected) {
      kvState.lastError = errorText(err);
      kvState.lastErrorAt = new Date().toISOString();
    }
    return wasDown && connected;
  }

  const resolveServers = async (g: Gateway) => {
    const servers: Record<string, StaticTarget[]> = {};
    const missing: string[] = [];
    for (const [name, route] of Object.entries(g.routes)) {
      if (!isDeploymentTarget(route.targets)) servers[name] = route.targets;
      else if (options.resolveTargets) servers[name] = await options.resolveTargets(route.targets.deployment, route.targets.port).catch((err) => {
        log.warn({ err, gateway: g.name, route: name }, 'could not resolve deployment targets');
        return [];
      });
      else servers[name] = [];
      if (servers[name].length === 0) missing.push(name);
    }
    return { servers, missing };
  };

  const build = async (name: string, stored: StoredGateway): Promise<Applied> => {
    const { name: _n, updatedAt: _u, ...spec } = JSON.parse(stored.value) as Gateway;
    const gateway = validateGateway(name, spec);
    const { servers, missing } = await resolveServers(gateway);
    const r = { gateway, servers };
    return { ...r, revision: stored.revision, text: renderGateway(r, ro), skeleton: renderSkeleton(r, ro), routesWithoutTargets: missing };
  };

  async function reconcile() {
    const failures = new Map<string, { revision: string; error: string }>();
    const candidates = new Map<string, Applied>();
    const ports = new Map<number, string>();
    for (const name of [...desired.keys()].sort()) {
      const stored = desired.get(name)!;
      const prev = applied.get(name);
      let cand: Applied | undefined = prev;
      const hasDeployments = prev && Object.values(prev.gateway.routes).some((r) => isDeploymentTarget(r.targets));
      if (!prev || prev.revision !== stored.revision || (hasDeployments && options.resolveTargets)) {
        try {
          cand = await build(name, stored);
        } catch (err) {
          failures.set(name, { revision: stored.revision, error: errorText(err) });
        }
      }
      if (cand && ports.has(cand.gateway.port)) {
        failures.set(name, { revision: stored.revision, error: `port ${cand.gateway.port} is already used by gateway '${ports.get(cand.gateway.port)}'` });
        cand = prev && prev !== cand && !ports.has(prev.gateway.port) ? prev : undefined;
      }
      if (cand) {
        ports.set(cand.gateway.port, name);
        candidates.set(name, cand);
      }
    }

    const structural = forceReload || !(await haproxy.running()) || candidates.size !== applied.size ||
      [...candidates].some(([n, c]) => applied.get(n)?.skeleton !== c.skeleton);
    let done = false;
    if (!structural) done = await applyRuntime(candidates);
    if (!done) await applyReload(candidates, failures);
    record(failures);
  }

  /**
   * Weights and route servers through the runtime API only; false means "fall back to a
   * reload" (HAProxy cannot do it at runtime, or a command failed: the reload then brings
   * every server and weight to the candidate config, whatever was already changed).
   */
  async function applyRuntime(candidates: Map<string, Applied>): Promise<boolean> {
    const changes: Array<{ backend: string; server: string; weight: number; delta: number }> = [];
    const add: ServerToAdd[] = [];
    const remove: ServerToRemove[] = [];
    for (const [name, c] of candidates) {
      const prev = applied.get(name)!;
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
      const busy = await deleteWhenIdle(remove);
      if (busy.length && !closed) {
        log.warn({ servers: busy.map((s) => `${s.backend}/${s.name}`), drainTimeoutMs }, 'removed servers still have connections; reloading instead');
        return false;
      }
    } catch (err) {
      log.warn({ err }, 'runtime change failed; reloading instead');
      return false;
    }
    const textChanged = [...candidates].some(([n, c]) => applied.get(n)?.text !== c.text);
    applied = candidates;
    hapState.serverChanges = (hapState.serverChanges ?? 0) + add.length + remove.length;
    if (textChanged) await haproxy.persist(renderConfig([...candidates.values()], ro));
    if (changes.length) log.info({ changes: changes.length }, 'weights applied at runtime');
    if (add.length || remove.length) log.info({ added: add.map((s) => `${s.backend}/${s.name}`), removed: remove.map((s) => `${s.backend}/${s.name}`) }, 'servers changed at runtime');
    return true;
  }

  /**
   * `del server` for each (already disabled) server as soon as HAProxy lets it: HAProxy refuses
   * while the server has connections. Going into maintenance closed its idle connections, but
   * requests in flight then hand theirs back to the idle pool: once none is in use, those are
   * dropped too. Returns the servers still busy at the deadline.
   */
  async function deleteWhenIdle(servers: ServerToRemove[]): Promise<ServerToRemove[]> {
    const deadline = Date.now() + drainTimeoutMs;
    let pending = servers;
    let pause = 10;
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
      if (!pending.length || closed || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(deadline - Date.now(), 1))));
      pause = Math.min(pause * 2, 200);
    }
    return pending;
  }

  /** Route sockets of routes that are gone (HAProxy leaves the files behind). */
  async function removeStaleSockets() {
    const keep = new Set([...applied.values()].flatMap((a) => Object.keys(a.gateway.routes).map((r) => basename(routeSocketPath(ro.dir, a.gateway.name, r)))));
    const files = await readdir(join(ro.dir, 'r')).catch(() => [] as string[]);
    await Promise.all(files.filter((f) => f.endsWith('.sock') && !keep.has(f)).map((f) => rm(join(ro.dir, 'r', f), { force: true })));
  }

  /** Why this new gateway version cannot be applied, or undefined. */
  async function precheck(c: Applied, held: Set<number>): Promise<string | undefined> {
    if (c.gateway.port === ro.statsPort) return `port ${c.gateway.port} is the agent's stats port`;
    const check = await haproxy.validate(renderBase(ro) + '\n' + c.text);
    if (!check.ok) return `HAProxy rejected the rendered config: ${check.output}`;
    // A port taken by another process would fail the whole reload only after HAProxy has
    // paused the old listeners and retried for seconds: find out first.
    if (!held.has(c.gateway.port)) {
      const busy = await portBusy(ro.bindAddress === '*' ? '0.0.0.0' : ro.bindAddress, c.gateway.port);
      if (busy) return `cannot bind ${ro.bindAddress}:${c.gateway.port}: ${busy} (another process holds it)`;
    }
    return undefined;
  }

  async function applyReload(candidates: Map<string, Applied>, failures: Map<string, { revision: string; error: string }>) {
    const revert = (name: string, error: string) => {
      const c = candidates.get(name)!;
      failures.set(name, { revision: desired.get(name)?.revision ?? c.revision, error });
      const prev = applied.get(name);
      if (prev && prev !== c) candidates.set(name, prev);
      else candidates.delete(name);
    };
    // Per-gateway validation first, so one bad gateway cannot hold back the others.
    const held = new Set([...applied.values()].map((a) => a.gateway.port).concat([...adoptedPorts]));
    for (const [name, c] of [...candidates]) {
      if (applied.get(name) === c) continue;
      const error = await precheck(c, held);
      if (error) revert(name, error);
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const config = renderConfig([...candidates.values()], ro);
      try {
        const check = await haproxy.validate(config);
        if (!check.ok) throw new Error(`HAProxy rejected the combined config: ${check.output}`);
        const wasRunning = await haproxy.running();
        await haproxy.apply(config);
        startedHaproxy ||= !wasRunning;
        hapState.lastReloadAt = new Date().toISOString();
        hapState.lastError = undefined;
        applied = candidates;
        forceReload = false;
        adoptedPorts.clear();
        await removeStaleSockets();
        return;
      } catch (err) {
        const message = errorText(err);
        hapState.lastError = message;
        // Blame the gateways HAProxy names (e.g. "cannot bind socket" for g.<name>) and retry without their change.
        const blamed = [...candidates.keys()].filter((n) => applied.get(n) !== candidates.get(n) && (message.includes(`g.${n}]`) || message.includes(`g.${n}:`) || message.includes(`'g.${n}'`) || message.includes(`r.${n}.`)));
        const changed = [...candidates.keys()].filter((n) => applied.get(n) !== candidates.get(n));
        for (const n of blamed.length ? blamed : changed) revert(n, message);
        log.warn({ err: message, blamed: blamed.length ? blamed : changed }, 'HAProxy config not applied; keeping the last good version of the gateways involved');
        if (!blamed.length) break;
      }
    }
    // Nothing changed in HAProxy: keep what was applied (previous versions stay reported).
    candidates.clear();
    for (const [n, a] of applied) candidates.set(n, a);
  }

  function record(failures: Map<string, { revision: string; error: string }>) {
    const now = new Date().toISOString();
    for (const name of [...gatewayStatus.keys()]) if (!desired.has(name) && !applied.has(name)) gatewayStatus.delete(name);
    for (const [name, a] of applied) {
      const prev = gatewayStatus.get(name);
      const s: AgentGatewayStatus = {
        appliedRevision: a.revision,
        appliedAt: prev?.appliedRevision === a.revision ? prev.appliedAt : now,
        ...(a.routesWithoutTargets.length ? { routesWithoutTargets: a.routesWithoutTargets } : {}),
      };
      gatewayStatus.set(name, s);
    }
    for (const [name, f] of failures) {
      gatewayStatus.set(name, { ...(gatewayStatus.get(name) ?? {}), error: f.error, failedRevision: f.revision });
      log.warn({ gateway: name, revision: f.revision, error: f.error }, 'gateway not applied');
    }
    void report();
  }

  const status = (): AgentStatus => ({
    agentId,
    heartbeatAt: new Date().toISOString(),
    heartbeatIntervalMs: heartbeatMs,
    startedAt,
    kv: { ...kvState },
    haproxy: { ...hapState, reloads: haproxy.reloads },
    gateways: Object.fromEntries(gatewayStatus),
  });

  const reporter = createStatusReporter({
    kv,
    agentId,
    heartbeatMs,
    snapshot: async () => {
      hapState.pid = await haproxy.pid();
      hapState.running = await haproxy.running();
      return status();
    },
    onResult: (ok, err) => {
      // The store is back: if the watch did not notice the outage, start it over.
      if (setKv(ok, err) && !closed) watcher.restart();
    },
  });
  const report = () => reporter.report();

  const heartbeat = async () => {
    if (closed) return;
    if (!(await haproxy.running())) {
      log.warn('HAProxy is not running; starting it again with the last applied config');
      forceReload = true;
      schedule();
    } else if (options.resolveTargets && [...applied.values()].some((a) => Object.values(a.gateway.routes).some((r) => isDeploymentTarget(r.targets)))) {
      // Deployments scale and move: re-resolve; servers come and go at runtime where possible.
      schedule();
    }
    await report();
  };

  return {
    refresh() {
      if (!closed) schedule();
    },
    async start() {
      hapState.running = await haproxy.running();
      if (hapState.running) {
        // Adopt the HAProxy a previous agent left running: it keeps serving its config
        // until the first list from the store replaces it (even if that is empty).
        forceReload = true;
        const previous = await readFile(configPath(ro.dir), 'utf8').catch(() => '');
        for (const m of previous.matchAll(/^\s*bind\s+[^\s@]+:(\d+)\s*$/gm)) adoptedPorts.add(Number(m[1]));
      } else {
        // Serve the stats/health listener right away, before the store answers.
        await haproxy.apply(renderConfig([], ro));
        startedHaproxy = true;
        hapState.running = true;
      }
      await watcher.start();
      heartbeatTimer = setInterval(() => void heartbeat(), heartbeatMs);
      heartbeatTimer.unref();
    },
    async idle() {
      while ((running || dirty) && !closed) await (running ?? Promise.resolve());
      await report();
    },
    status,
    async close() {
      closed = true;
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      await watcher.close();
      await running;
      // A clean shutdown removes the status key at once instead of letting it go stale.
      await reporter.remove();
      const stop = options.stopHaproxy ?? 'auto';
      if (stop === true || (stop === 'auto' && startedHaproxy)) await haproxy.stop();
    },
  };
}
