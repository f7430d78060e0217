import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEtcdKvStore } from '../../adapters/kv/etcd.ts';
import type { KvStore } from '../../engine/ports/kv-store.ts';
import { createZookeeperKvStore } from '../../adapters/kv/zookeeper.ts';
import { startEtcd } from '../helpers/etcd-server.ts';
import { freePort } from '../helpers/free-port.ts';
import { startHttpBackends } from '../helpers/http-backends.ts';
import { runLoad } from '../helpers/load.ts';
import { startZookeeper } from '../helpers/zookeeper-server.ts';
import { startAgentSystem } from './agent-system.ts';

/** The agent end to end on the other KV stores (Redis is covered by agent-haproxy.test.ts). */
const stores: Array<{ name: string; start: () => Promise<{ url: string; stop: () => Promise<void> }>; open: (url: string) => KvStore }> = [
  { name: 'etcd', start: startEtcd, open: (url) => createEtcdKvStore({ url, prefix: 'gw-e2e' }) },
  { name: 'zookeeper', start: startZookeeper, open: (url) => createZookeeperKvStore({ url, prefix: 'gw-e2e' }) },
];

for (const store of stores) {
  test(`end to end on ${store.name}: create, runtime weight change, structural change, status`, async () => {
    const server = await store.start();
    const agentKv = store.open(server.url);
    const serviceKv = store.open(server.url);
    const backends = await startHttpBackends(['v1', 'v2', 'v3']);
    const sys = await startAgentSystem({ agentKv, serviceKv });
    try {
      const t = (i: number) => [{ host: '127.0.0.1', port: backends[i].port }];
      const port = await freePort();
      const url = `http://127.0.0.1:${port}/`;
      await sys.service.put('shop', { port, routes: { v1: { weight: 80, targets: t(0) }, v2: { weight: 20, targets: t(1) } } });
      await sys.live('shop');
      assert.deepEqual((await runLoad({ url, requests: 500, concurrency: 4 })).counts, { v1: 400, v2: 100 });
      const reloads = sys.haproxy.reloads;
      await sys.service.setWeights('shop', { v1: 30, v2: 70 });
      await sys.live('shop');
      assert.deepEqual((await runLoad({ url, requests: 500, concurrency: 4 })).counts, { v1: 150, v2: 350 });
      assert.equal(sys.haproxy.reloads, reloads, 'weights changed at runtime');
      await sys.service.update('shop', { routes: { v2: { weight: 40 }, v3: { weight: 30, targets: t(2) } } });
      await sys.live('shop');
      assert.deepEqual((await runLoad({ url, requests: 500, concurrency: 4 })).counts, { v1: 150, v2: 200, v3: 150 });
    } finally {
      await sys.stop();
      await agentKv.close();
      await serviceKv.close();
      await Promise.all(backends.map((b) => b.close()));
      await server.stop();
    }
  });
}
