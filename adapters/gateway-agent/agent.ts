import type { AgentStatus } from '../../engine/domain/gateways/keys.ts';
import type { KvStore } from '../../engine/ports/kv-store.ts';
import type { Logger } from '../../engine/shared/logger.ts';
import type { AgentContext, ResolveTargets } from './agent-context.ts';
import { createAgentState } from './agent-state.ts';
import { recordKvConnection, snapshotStatus } from './agent-status.ts';
import { hasDeploymentTargets } from './candidates.ts';
import { createGatewayWatcher } from './gateway-watcher.ts';
import type { HaproxyProcess } from './haproxy-process.ts';
import { startHaproxyWatchdog, type HaproxyWatchdog, type HaproxyWatchdogOptions } from './haproxy-watchdog.ts';
import { reconcile } from './reconcile.ts';
import { createReconcileLoop } from './reconcile-loop.ts';
import { adoptOrStartHaproxy } from './reload.ts';
import { adminSocketPath, exporterAddress, type RenderOptions } from './render.ts';
import { createRuntimeApi } from './runtime-api.ts';
import { createStatusReporter } from './status-reporter.ts';

export type { ResolveTargets } from './agent-context.ts';

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
  /** How quickly a dead HAProxy is noticed and how a crash-looping one is paced (haproxy-watchdog.ts). */
  watchdog?: Omit<HaproxyWatchdogOptions, 'onRestart'>;
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

/**
 * The gateway agent: keeps one HAProxy in step with the gateways in the KV store. This file
 * only wires the parts and runs their lifecycle; the work is split by concern:
 *
 *   agent-state.ts       the one state object every part reads and writes (a "why" per field)
 *   gateway-watcher.ts   list + watch the store → `state.desired`
 *   reconcile.ts         decide what changed and how to apply it (candidates.ts builds versions)
 *   runtime-apply.ts     weights and route servers through HAProxy's runtime API, no reload
 *   reload.ts            full config render, validation, hitless reload (haproxy-process.ts)
 *   haproxy-watchdog.ts  restarts a HAProxy that died at once, from the last applied config
 *   agent-status.ts      status bookkeeping; status-reporter.ts writes it to `agents/<id>`
 *   log-receiver.ts      log intake: HAProxy's UDP traffic log → records for the metrics sink
 *
 * A gateway that cannot be applied keeps its last good version and is reported; the others
 * still go ahead.
 */
export function createGatewayAgent(options: GatewayAgentOptions): GatewayAgent {
  const { kv, haproxy, agentId } = options;
  const log = options.logger.child({ component: 'gateway-agent', agentId });
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const startedAt = new Date().toISOString();
  const state = createAgentState(kv.kind);
  const ctx: AgentContext = {
    state,
    haproxy,
    api: createRuntimeApi(adminSocketPath(options.render.dir)),
    render: options.render,
    log,
    resolveTargets: options.resolveTargets,
    drainTimeoutMs: options.drainTimeoutMs ?? 10_000,
  };
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let watchdog: HaproxyWatchdog | undefined;

  const exporter = exporterAddress(options.render);
  const status = (): AgentStatus => snapshotStatus(state, { agentId, heartbeatMs, startedAt, reloads: haproxy.reloads, exporter });
  const reporter = createStatusReporter({
    kv,
    agentId,
    heartbeatMs,
    snapshot: async () => {
      state.haproxy.pid = await haproxy.pid();
      state.haproxy.running = await haproxy.running();
      return status();
    },
    onResult: (ok, err) => {
      // The store is back: if the watch did not notice the outage, start it over.
      if (recordKvConnection(state, ok, err) && !state.closed) watcher.restart();
    },
  });
  const loop = createReconcileLoop(
    async () => {
      await reconcile(ctx);
      void reporter.report();
    },
    { stopped: () => state.closed, log },
  );
  const watcher = createGatewayWatcher({
    kv,
    logger: log,
    onChange: (desired) => {
      state.desired = new Map(desired);
      loop.schedule();
    },
    onConnection: (connected, err) => recordKvConnection(state, connected, err),
  });

  let downBeats = 0;
  const heartbeat = async () => {
    if (state.closed) return;
    const running = await haproxy.running();
    downBeats = running ? 0 : downBeats + 1;
    if (!running) {
      // The watchdog restarts it within its poll (and paces a crash loop); this backstop acts only
      // when HAProxy stayed down through a whole heartbeat, so it neither races the watchdog nor
      // skips its pauses, and every restart is counted in the status by the watchdog.
      if (downBeats < 2) return void (await reporter.report());
      log.warn('HAProxy is not running; starting it again with the last applied config');
      state.forceReload = true;
      loop.schedule();
    } else if (ctx.resolveTargets && [...state.applied.values()].some((a) => hasDeploymentTargets(a.gateway))) {
      // Deployments scale and move: re-resolve; servers come and go at runtime where possible.
      loop.schedule();
    }
    await reporter.report();
  };

  return {
    refresh() {
      if (!state.closed) loop.schedule();
    },
    async start() {
      await adoptOrStartHaproxy(ctx);
      watchdog = startHaproxyWatchdog(ctx, {
        ...options.watchdog,
        onRestart: () => {
          // The restart loaded the config file; a pass catches up with anything newer.
          loop.schedule();
          void reporter.report();
        },
      });
      await watcher.start();
      heartbeatTimer = setInterval(() => void heartbeat(), heartbeatMs);
      heartbeatTimer.unref();
    },
    async idle() {
      await loop.idle();
      await reporter.report();
    },
    status,
    async close() {
      state.closed = true;
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      watchdog?.stop();
      await watcher.close();
      await loop.settled();
      // A clean shutdown removes the status key at once instead of letting it go stale.
      await reporter.remove();
      const stop = options.stopHaproxy ?? 'auto';
      if (stop === true || (stop === 'auto' && state.startedHaproxy)) await haproxy.stop();
    },
  };
}
