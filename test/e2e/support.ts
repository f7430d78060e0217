import { startGatewayAgentProcess } from '../../adapters/gateway-agent/main.ts';
import type { AgentStatus } from '../../engine/domain/gateways/keys.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { freePort } from '../helpers/free-port.ts';
import { haproxyWorkDir } from '../helpers/haproxy.ts';
import type { TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Shared pieces of the end-to-end tests (not a test file itself). */

export interface E2eAgent {
  dir: string;
  statsPort: number;
  /** The agent's own status (HAProxy reloads, runtime server changes…). */
  status(): AgentStatus;
  stop(): Promise<void>;
}

/**
 * The gateway agent as `npm run gateway-agent` wires it (metrics sink into the test system's
 * metrics store, `{ deployment, port }` targets following the scheduler), serving a real
 * HAProxy from a short temp dir, on the test system's Redis and prefix.
 */
export async function startE2eAgent(t: TestSystem, env: Record<string, string> = {}): Promise<E2eAgent> {
  const dir = await haproxyWorkDir();
  const statsPort = await freePort();
  let agent: Awaited<ReturnType<typeof startGatewayAgentProcess>>;
  try {
    if (dir.path.length > 70) throw new Error(`temp dir too long for HAProxy sockets: ${dir.path}`);
    agent = await startGatewayAgentProcess(
      {
        ...t.env,
        VEER_GATEWAY_AGENT_ID: `e2e-${statsPort}`,
        VEER_GATEWAY_AGENT_DIR: dir.path,
        VEER_GATEWAY_AGENT_STATS_PORT: String(statsPort),
        VEER_GATEWAY_AGENT_HEARTBEAT_MS: '500',
        VEER_GATEWAY_AGENT_HARD_STOP_AFTER: '5s',
        ...env,
      },
      silentLogger(),
    );
  } catch (err) {
    await dir.remove();
    throw err;
  }
  return {
    dir: dir.path,
    statsPort,
    status: () => agent.agent.status(),
    stop: async () => {
      try {
        await agent.stop();
      } finally {
        await dir.remove();
      }
    },
  };
}

/** Resolves when the gateway's current revision is served by the agent (status says live). */
export async function waitLive(t: TestSystem, gateway: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      const r = await t.call('GET', `/api/v1/gateways/${gateway}/status`);
      return r.status === 200 && r.body.live === true;
    },
    { timeoutMs, intervalMs: 50, what: `gateway ${gateway} live on the agent` },
  );
}

/** Runs cleanup steps in order, all of them, and rethrows the first failure. */
export async function cleanup(steps: Array<(() => Promise<unknown>) | undefined>): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    if (!step) continue;
    try {
      await step();
    } catch (err) {
      first ??= err;
    }
  }
  if (first) throw first;
}
