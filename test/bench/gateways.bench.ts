/**
 * Gateway benchmark (`npm run bench -- gateways`), loopback only, bounded to well under 60 s.
 *
 * 1. Weight propagation: time from `service.setWeights()` returning to HAProxy serving the
 *    new weight (polling `get weight` on the admin socket), p50/p99, per KV store available:
 *    Redis always, etcd when its server runs here, ZooKeeper/Consul when their adapter and
 *    test helper/double exist. Target: p50 < 100 ms for Redis and etcd.
 * 2. Throughput through HAProxy with no weight changes (baseline) vs. with a weight change
 *    every 50 ms, same run, same store (Redis). Target: no measurable drop.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEtcdKvStore } from '../../adapters/kv/etcd.ts';
import type { KvStore } from '../../engine/ports/kv-store.ts';
import { createRedisKvStore } from '../../adapters/kv/redis.ts';
import { weightBackendName } from '../../adapters/gateway-agent/render.ts';
import { startAgentSystem, type AgentSystem } from '../gateways/agent-system.ts';
import { startEtcd } from '../helpers/etcd-server.ts';
import { freePort } from '../helpers/free-port.ts';
import { startHttpBackends, type HttpBackend } from '../helpers/http-backends.ts';
import { runLoadInWorker } from '../helpers/load.ts';
import { startRedis } from '../helpers/redis-server.ts';

const CHANGES = 60;
const ROUNDS = 8;
const ROUND_MS = 1000;

interface Store {
  name: string;
  open: () => Promise<{ agentKv: KvStore; serviceKv: KvStore; stop: () => Promise<void> }>;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function propagation(sys: AgentSystem, port: number, backends: HttpBackend[]): Promise<number[]> {
  const target = (b: HttpBackend) => [{ host: '127.0.0.1', port: b.port }];
  await sys.service.put('bench', { port, routes: { v1: { weight: 100, targets: target(backends[0]) }, v2: { weight: 0, targets: target(backends[1]) } } });
  await sys.live('bench');
  const samples: number[] = [];
  for (let i = 1; i <= CHANGES; i++) {
    const w = i % 2 ? 10 + (i % 80) : 0;
    await sys.service.setWeights('bench', { v1: 100 - w, v2: w });
    const t0 = performance.now();
    for (;;) {
      if ((await sys.runtime.getWeight(weightBackendName('bench'), 'v2')) === w) break;
      if (performance.now() - t0 > 5000) throw new Error(`weight ${w} not applied within 5 s`);
    }
    samples.push(performance.now() - t0);
  }
  await sys.service.delete('bench');
  return samples;
}

async function throughput(sys: AgentSystem, backends: HttpBackend[]) {
  const port = await freePort();
  const target = (b: HttpBackend) => [{ host: '127.0.0.1', port: b.port }];
  await sys.service.put('tput', { port, routes: { v1: { weight: 50, targets: target(backends[0]) }, v2: { weight: 50, targets: target(backends[1]) } } });
  await sys.live('tput');
  const url = `http://127.0.0.1:${port}/`;
  const measure = async (changing: boolean) => {
    const load = runLoadInWorker({ url, concurrency: 16, keepAlive: true, maxMs: ROUND_MS });
    let changes = 0;
    if (changing) {
      const end = Date.now() + ROUND_MS - 100;
      while (Date.now() < end) {
        const w = 20 + (changes % 60);
        await sys.service.setWeights('tput', { v1: 100 - w, v2: w });
        changes++;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const r = await load;
    return { rps: r.rps, failures: r.failures, changes };
  };
  await measure(false); // warm-up
  // Paired rounds in ABBA order, so drift (other load on this 2-core machine) hits both
  // conditions alike; the figure is the median of the per-pair ratios.
  const base: number[] = [];
  const during: number[] = [];
  const ratios: number[] = [];
  let changes = 0;
  let failures = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 ? [true, false] : [false, true];
    const got: Record<string, number> = {};
    for (const changing of order) {
      const m = await measure(changing);
      got[String(changing)] = m.rps;
      if (changing) {
        changes += m.changes;
        failures += m.failures;
      }
    }
    base.push(got.false);
    during.push(got.true);
    ratios.push(got.true / got.false);
  }
  await sys.service.delete('tput');
  const median = (xs: number[]) => pct(xs, 50);
  return { base: median(base), during: median(during), ratio: median(ratios), changes, failures, baseAll: base, duringAll: during };
}

async function optionalStore(name: string, adapter: string, factory: string, helper: string, starter: string): Promise<Store | undefined> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  if (!existsSync(`${root}${adapter}`) || !existsSync(`${root}${helper}`)) return undefined;
  const a = (await import(`${root}${adapter}`)) as Record<string, (o: unknown) => KvStore>;
  const h = (await import(`${root}${helper}`)) as Record<string, () => Promise<{ url: string; stop: () => Promise<void> }>>;
  if (typeof a[factory] !== 'function' || typeof h[starter] !== 'function') return undefined;
  return {
    name,
    open: async () => {
      const server = await h[starter]();
      const agentKv = a[factory]({ url: server.url, prefix: 'bench' });
      const serviceKv = a[factory]({ url: server.url, prefix: 'bench' });
      return {
        agentKv,
        serviceKv,
        stop: async () => {
          await agentKv.close();
          await serviceKv.close();
          await server.stop();
        },
      };
    },
  };
}

async function main() {
  const started = Date.now();
  const backends = await startHttpBackends(['v1', 'v2']);
  const stores: Store[] = [
    {
      name: 'redis',
      open: async () => {
        const r = await startRedis();
        const agentKv = createRedisKvStore({ url: r.url, prefix: 'bench' });
        const serviceKv = createRedisKvStore({ url: r.url, prefix: 'bench' });
        return {
          agentKv,
          serviceKv,
          stop: async () => {
            await agentKv.close();
            await serviceKv.close();
            await r.stop();
          },
        };
      },
    },
    {
      name: 'etcd',
      open: async () => {
        const e = await startEtcd();
        const agentKv = createEtcdKvStore({ url: e.url, prefix: 'bench' });
        const serviceKv = createEtcdKvStore({ url: e.url, prefix: 'bench' });
        return {
          agentKv,
          serviceKv,
          stop: async () => {
            await agentKv.close();
            await serviceKv.close();
            await e.stop();
          },
        };
      },
    },
  ];
  for (const s of [
    await optionalStore('zookeeper', 'adapters/kv/zookeeper.ts', 'createZookeeperKvStore', 'test/helpers/zookeeper-server.ts', 'startZookeeper'),
    await optionalStore('consul (double)', 'adapters/kv/consul.ts', 'createConsulKvStore', 'test/doubles/consul.ts', 'startConsulDouble'),
  ])
    if (s) stores.push(s);

  console.log(`weight propagation: setWeights() returned → HAProxy serving the weight (${CHANGES} changes per store)`);
  let tput: Awaited<ReturnType<typeof throughput>> | undefined;
  for (const store of stores) {
    let opened: Awaited<ReturnType<Store['open']>> | undefined;
    let sys: AgentSystem | undefined;
    try {
      opened = await store.open();
      // Records are parsed (as in production) but not kept: an ever-growing array would skew throughput.
      sys = await startAgentSystem({ agentKv: opened.agentKv, serviceKv: opened.serviceKv, heartbeatMs: 1000, keepRecords: false });
      const samples = await propagation(sys, await freePort(), backends);
      console.log(`  ${store.name.padEnd(16)} p50 ${ms(pct(samples, 50))}  p99 ${ms(pct(samples, 99))}  max ${ms(Math.max(...samples))}`);
      if (store.name === 'redis') tput = await throughput(sys, backends);
    } catch (err) {
      console.log(`  ${store.name.padEnd(16)} skipped: ${(err as Error).message}`);
    } finally {
      await sys?.stop();
      await opened?.stop();
    }
  }
  if (tput) {
    console.log(
      `throughput through HAProxy (keep-alive, 16 connections, load in a worker thread, ${ROUNDS} ABBA-paired rounds of ${ROUND_MS} ms each, Redis KV):`,
    );
    console.log(`  no weight changes (median): ${tput.base} req/s   rounds: ${tput.baseAll.join(', ')}`);
    console.log(`  a weight change every ~50 ms (median, ${tput.changes} changes): ${tput.during} req/s   rounds: ${tput.duringAll.join(', ')}`);
    console.log(`  with/without ratio (median of pairs): ${tput.ratio.toFixed(2)}; failed requests during changes: ${tput.failures}`);
  }
  await Promise.all(backends.map((b) => b.close()));
  console.log(`total ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

await main();
