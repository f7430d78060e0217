import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processAlive } from '../../adapters/gateway-agent/haproxy-process.ts';
import { createRedisKvStore } from '../../adapters/kv/redis.ts';
import { agentKey } from '../../engine/domain/gateways/keys.ts';
import { createGatewayService } from '../../engine/gateways/service.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { freePort } from '../helpers/free-port.ts';
import { haproxyWorkDir } from '../helpers/haproxy.ts';
import { startHttpBackends } from '../helpers/http-backends.ts';
import { fetchOnce } from '../helpers/load.ts';
import { startProcess } from '../helpers/process.ts';
import { startRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('`npm run gateway-agent` as its own process: env config, health, gateways, clean SIGTERM', async () => {
  const redis = await startRedis();
  const dir = await haproxyWorkDir();
  const backends = await startHttpBackends(['v1']);
  const kv = createRedisKvStore({ url: redis.url, prefix: 'proc' });
  const service = createGatewayService({ kv, logger: silentLogger() });
  const statsPort = await freePort();
  const agent = startProcess(process.execPath, ['--no-node-snapshot', join(root, 'adapters/gateway-agent/main.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      VEER_REDIS_URL: redis.url,
      VEER_KV: 'redis',
      VEER_KV_PREFIX: 'proc',
      VEER_GATEWAY_AGENT_ID: 'proc-agent',
      VEER_GATEWAY_AGENT_DIR: dir.path,
      VEER_GATEWAY_AGENT_STATS_PORT: String(statsPort),
      VEER_GATEWAY_AGENT_HEARTBEAT_MS: '300',
      VEER_LOG_LEVEL: 'warn',
    },
  });
  try {
    await waitFor(
      async () => {
        if (agent.child.exitCode !== null) throw new Error(`agent exited: ${agent.output()}`);
        return (await fetchOnce(`http://127.0.0.1:${statsPort}/health`)).status === 200;
      },
      { timeoutMs: 20_000, what: 'agent health endpoint' },
    );

    const port = await freePort();
    await service.put('shop', { port, routes: { v1: { targets: [{ host: '127.0.0.1', port: backends[0].port }] } } });
    await waitFor(async () => (await service.status('shop')).live, { timeoutMs: 20_000, what: `gateway live (${agent.output()})` });
    assert.equal((await fetchOnce(`http://127.0.0.1:${port}/`)).body, 'v1');
    const pid = Number((await readFile(join(dir.path, 'haproxy.pid'), 'utf8')).trim());
    assert.ok(processAlive(pid));

    agent.child.kill('SIGTERM');
    await waitFor(() => agent.child.exitCode !== null, { timeoutMs: 15_000, what: 'agent exit' });
    assert.equal(agent.child.exitCode, 0, agent.output());
    await waitFor(() => !processAlive(pid), { what: 'HAProxy stopped with the agent that started it' });
    assert.equal(await kv.get(agentKey('proc-agent')), undefined, 'the status key is removed on a clean stop');
  } finally {
    await agent.stop();
    await kv.close();
    await backends[0].close();
    await dir.remove();
    await redis.stop();
  }
});
