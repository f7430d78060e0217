/**
 * put → watch-event latency per KV store (real Redis, etcd, ZooKeeper; the Consul double).
 * Baseline, measured in the same run: the plain put round trip on the same store; the
 * ratio says how much a watcher lags behind the writer's own acknowledgement.
 * Run: npm run bench -- kv   (or node --no-node-snapshot test/bench/kv.bench.ts [rounds])
 */
import { performance } from 'node:perf_hooks';
import { createConsulKvStore } from '../../adapters/kv/consul.ts';
import { createEtcdKvStore } from '../../adapters/kv/etcd.ts';
import type { KvStore } from '../../engine/ports/kv-store.ts';
import { createRedisKvStore } from '../../adapters/kv/redis.ts';
import { createZookeeperKvStore } from '../../adapters/kv/zookeeper.ts';
import { startConsulDouble } from '../doubles/consul.ts';
import { startEtcd } from '../helpers/etcd-server.ts';
import { startRedis } from '../helpers/redis-server.ts';
import { startZookeeper } from '../helpers/zookeeper-server.ts';

const rounds = Number(process.argv[2] ?? 300);
const deadline = Date.now() + 50_000;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function measure(name: string, kv: KvStore) {
  const put: number[] = [];
  const event: number[] = [];
  const { position } = await kv.list('bench');
  const watch = kv.watch('bench', { fromPosition: position });
  const it = watch[Symbol.asyncIterator]();
  for (let i = 0; i < rounds && Date.now() < deadline; i++) {
    const t0 = performance.now();
    await kv.put('bench/k', String(i));
    const t1 = performance.now();
    const r = await it.next();
    if (r.done || r.value.type !== 'put' || r.value.value !== String(i)) throw new Error(`${name}: unexpected event ${JSON.stringify(r.value)}`);
    const t2 = performance.now();
    put.push(t1 - t0);
    event.push(t2 - t0);
  }
  await watch.close();
  await kv.delete('bench/k');
  await kv.close();
  return { name, n: put.length, put50: pct(put, 50), ev50: pct(event, 50), ev99: pct(event, 99) };
}

const [redis, etcd, zk, consul] = await Promise.all([startRedis(), startEtcd(), startZookeeper(), startConsulDouble()]);
try {
  const results = [];
  results.push(await measure('redis', createRedisKvStore({ url: redis.url, prefix: 'bench' })));
  results.push(await measure('etcd', createEtcdKvStore({ url: etcd.url, prefix: 'bench' })));
  results.push(await measure('zookeeper', createZookeeperKvStore({ url: zk.url, prefix: 'bench' })));
  results.push(await measure('consul (double)', createConsulKvStore({ url: consul.url, prefix: 'bench' })));
  console.log(`put → watch event latency, ${rounds} sequential rounds per store (loopback)`);
  console.log('store            rounds  put p50     event p50   event p99   event/put p50   event p50 vs redis');
  const base = results[0].ev50;
  for (const r of results) {
    console.log(
      `${r.name.padEnd(16)} ${String(r.n).padStart(6)}  ${ms(r.put50).padEnd(10)}  ${ms(r.ev50).padEnd(10)}  ${ms(r.ev99).padEnd(10)}  ${(r.ev50 / r.put50).toFixed(2).padStart(6)}x        ${(r.ev50 / base).toFixed(2).padStart(6)}x`,
    );
  }
} finally {
  await Promise.all([redis.stop(), etcd.stop(), zk.stop(), consul.stop()]);
}
