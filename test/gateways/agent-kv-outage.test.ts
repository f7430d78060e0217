import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRedisKvStore } from '../../adapters/kv/redis.ts';
import { freePort } from '../helpers/free-port.ts';
import { startHttpBackends } from '../helpers/http-backends.ts';
import { runLoad, startLoad } from '../helpers/load.ts';
import { startPersistentRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startAgentSystem } from './agent-system.ts';

test('with the KV store down, traffic keeps flowing on the last config; the agent recovers when it returns', async () => {
  const redis = await startPersistentRedis();
  const url = redis.url;
  const agentKv = createRedisKvStore({ url, prefix: 'outage', timeoutMs: 500 });
  const serviceKv = createRedisKvStore({ url, prefix: 'outage', timeoutMs: 500 });
  const backends = await startHttpBackends(['v1', 'v2']);
  const sys = await startAgentSystem({ agentKv, serviceKv, heartbeatMs: 200 });
  try {
    const gwPort = await freePort();
    await sys.service.put('shop', {
      port: gwPort,
      routes: {
        v1: { weight: 100, targets: [{ host: '127.0.0.1', port: backends[0].port }] },
        v2: { weight: 0, targets: [{ host: '127.0.0.1', port: backends[1].port }] },
      },
    });
    await sys.live('shop');
    const load = startLoad({ url: `http://127.0.0.1:${gwPort}/`, concurrency: 3, keepAlive: true });

    await redis.down();
    await waitFor(() => !sys.agent.status().kv.connected, { timeoutMs: 15_000, what: 'agent noticing the store is gone' });
    assert.ok(sys.agent.status().kv.lastError, 'the status carries the error');
    const during = load.snapshot().requests;
    await waitFor(() => load.snapshot().requests > during + 200, { what: 'traffic during the outage' });
    assert.equal(load.snapshot().failures, 0, 'no request failed while the store was down');
    assert.equal(sys.agent.status().gateways.shop.appliedRevision !== undefined, true);

    await redis.up();
    await waitFor(() => sys.agent.status().kv.connected, { timeoutMs: 15_000, what: 'agent reconnecting' });
    // A change made after the outage reaches HAProxy: the watch is alive again.
    await waitFor(() => sys.service.setWeights('shop', { v1: 0, v2: 100 }).then(() => true), { timeoutMs: 10_000, what: 'service write after restart' });
    await sys.live('shop');
    const r = await load.stop();
    assert.equal(r.failures, 0, JSON.stringify(r.errors));
    const after = await runLoad({ url: `http://127.0.0.1:${gwPort}/`, requests: 100, concurrency: 2 });
    assert.deepEqual(after.counts, { v2: 100 });
  } finally {
    await sys.stop();
    await agentKv.close();
    await serviceKv.close();
    await Promise.all(backends.map((b) => b.close()));
    await redis.stop();
  }
});
