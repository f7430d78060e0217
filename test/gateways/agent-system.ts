import type { KvStore } from '../../engine/ports/kv-store.ts';
import { createGatewayAgent, type GatewayAgent, type ResolveTargets } from '../../adapters/gateway-agent/agent.ts';
import { createHaproxyProcess, type HaproxyProcess } from '../../adapters/gateway-agent/haproxy-process.ts';
import type { GatewayLogRecord } from '../../adapters/gateway-agent/log-line.ts';
import { createLogReceiver, type LogReceiver } from '../../adapters/gateway-agent/log-receiver.ts';
import { createRuntimeApi, type RuntimeApi } from '../../adapters/gateway-agent/runtime-api.ts';
import { adminSocketPath } from '../../adapters/gateway-agent/render.ts';
import { createGatewayService, type GatewayService } from '../../engine/gateways/service.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { freePort } from '../helpers/free-port.ts';
import { haproxyBin, haproxyWorkDir } from '../helpers/haproxy.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** One agent + HAProxy + log receiver + a gateway service, all on the given KV store(s). */
export interface AgentSystem {
  agent: GatewayAgent;
  haproxy: HaproxyProcess;
  runtime: RuntimeApi;
  service: GatewayService;
  records: GatewayLogRecord[];
  logs: LogReceiver;
  dir: string;
  statsPort: number;
  /** Resolves when HAProxy serves the gateway's current revision (per the agent's status key). */
  live(name: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startAgentSystem(o: {
  agentKv: KvStore;
  serviceKv: KvStore;
  heartbeatMs?: number;
  agentId?: string;
  keepRecords?: boolean;
  resolveTargets?: ResolveTargets;
  drainTimeoutMs?: number;
  /** HAProxy's Prometheus exporter on 127.0.0.1:<port> (VEER_GATEWAY_AGENT_PROMETHEUS_PORT). */
  prometheusPort?: number;
}): Promise<AgentSystem> {
  const logger = silentLogger();
  const dir = await haproxyWorkDir();
  const records: GatewayLogRecord[] = [];
  const logs = createLogReceiver({
    port: 0,
    logger,
    onLogRecords: (r) => {
      if (o.keepRecords !== false) records.push(...r);
    },
    flushMs: 20,
  });
  const logPort = await logs.start();
  const statsPort = await freePort();
  const haproxy = createHaproxyProcess({ bin: haproxyBin(), dir: dir.path, logger });
  const agent = createGatewayAgent({
    kv: o.agentKv,
    logger,
    agentId: o.agentId ?? 'test-agent',
    haproxy,
    render: {
      dir: dir.path,
      bindAddress: '127.0.0.1',
      statsPort,
      logPort,
      hardStopAfter: '10s',
      ...(o.prometheusPort ? { prometheus: { host: '127.0.0.1', port: o.prometheusPort } } : {}),
    },
    heartbeatMs: o.heartbeatMs ?? 500,
    resolveTargets: o.resolveTargets,
    drainTimeoutMs: o.drainTimeoutMs,
  });
  try {
    await agent.start();
  } catch (err) {
    await logs.stop();
    await dir.remove();
    throw err;
  }
  const service = createGatewayService({ kv: o.serviceKv, logger });
  return {
    agent,
    haproxy,
    runtime: createRuntimeApi(adminSocketPath(dir.path)),
    service,
    records,
    logs,
    dir: dir.path,
    statsPort,
    live: async (name, timeoutMs = 15_000) => {
      await waitFor(async () => (await service.status(name)).live, { timeoutMs, what: `gateway ${name} live on the agent` });
    },
    stop: async () => {
      await agent.close();
      await haproxy.stop();
      await logs.stop();
      await dir.remove();
    },
  };
}

/** Binomial tolerance: |observed - n·p| ≤ k·sqrt(n·p·(1-p)). */
export function withinSigma(observed: number, n: number, p: number, k = 4): boolean {
  return Math.abs(observed - n * p) <= k * Math.sqrt(n * p * (1 - p));
}
