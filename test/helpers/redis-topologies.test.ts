import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { PROBE_KEY, startRedisCluster, type TestRedisCluster } from './redis-cluster.ts';
import { startRedisSentinel, type TestRedisSentinel } from './redis-sentinel.ts';
import { waitFor } from './wait-for.ts';

/** "127.0.0.1:p1,127.0.0.1:p2" → ioredis's node list. */
const hosts = (list: string) =>
  list.split(',').map((hostPort) => {
    const [host, port] = hostPort.split(':');
    return { host, port: Number(port) };
  });

// A failover is elections and gossip on a shared 2-core machine: the deadline for "serving again" is generous,
// and the time it took is printed, not asserted.
const SERVING_MS = 30_000;

describe('Redis Cluster helper', () => {
  let cluster: TestRedisCluster;
  let client: Cluster;
  let startMs = 0;
  before(async () => {
    const started = Date.now();
    cluster = await startRedisCluster();
    startMs = Date.now() - started;
    client = new Cluster(hosts(cluster.nodes));
    client.on('error', () => {});
  });
  after(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  test('a key written before a failover is read after it, and writes succeed again', async (t) => {
    assert.equal((await cluster.masters()).length, 3);
    await client.set(PROBE_KEY, 'before');
    const { from, to, ms } = await cluster.failover();
    t.diagnostic(`cluster (3 masters + 3 replicas) started in ${startMs} ms; failover ${from} -> ${to}: ${ms} ms`);
    assert.ok((await cluster.masters()).some((m) => m.port === to));
    await waitFor(async () => (await client.get(PROBE_KEY)) === 'before' && (await client.set(PROBE_KEY, 'after')) === 'OK', {
      timeoutMs: SERVING_MS,
      what: 'the cluster to serve reads and writes through ioredis after the failover',
    });
    assert.equal(await client.get(PROBE_KEY), 'after');
  });

  test('a key the replica acknowledged before its master was killed is read after the election, and writes succeed again', async (t) => {
    const key = 'run:7';
    const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
    const owner = (await cluster.masters()).find((m) => m.slots.some(([first, last]) => first <= slot && slot <= last));
    assert.ok(owner, `a master serves slot ${slot}`);
    // WAIT counts the writes of its own connection, so the write goes straight to the key's master.
    const direct = new Redis({ host: '127.0.0.1', port: owner.port });
    try {
      await direct.set(key, 'queued');
      assert.equal(await direct.call('WAIT', '1', '1000'), 1);
    } finally {
      direct.disconnect();
    }
    const { from, to, ms } = await cluster.killMaster(owner.port);
    t.diagnostic(`cluster master ${from} killed, replica ${to} elected: ${ms} ms`);
    await waitFor(async () => (await client.get(key)) === 'queued' && (await client.set(key, 'running')) === 'OK', {
      timeoutMs: SERVING_MS,
      what: 'the cluster to serve reads and writes through ioredis after the master was killed',
    });
    assert.equal(await client.get(key), 'running');
  });
});

describe('Redis Sentinel helper', () => {
  let sentinel: TestRedisSentinel;
  let client: Redis;
  let startMs = 0;
  before(async () => {
    const started = Date.now();
    sentinel = await startRedisSentinel();
    startMs = Date.now() - started;
    client = new Redis({ sentinels: hosts(sentinel.sentinels), name: sentinel.name });
    client.on('error', () => {});
  });
  after(async () => {
    client?.disconnect();
    await sentinel?.stop();
  });

  test('a key the replica acknowledged before the master died is read after failover, and writes succeed on the new master', async (t) => {
    await client.set('run:1', 'queued');
    // WAIT: the replica has the write before the crash, as a run record replicated in production would be.
    assert.equal(await client.call('WAIT', '1', '1000'), 1);
    const { from, to, ms } = await sentinel.killMaster();
    t.diagnostic(`sentinel setup started in ${startMs} ms; master killed, ${from} -> ${to}: ${ms} ms`);
    assert.equal(await sentinel.masterPort(), to);
    await waitFor(async () => (await client.get('run:1')) === 'queued' && (await client.set('run:2', 'queued')) === 'OK', {
      timeoutMs: SERVING_MS,
      what: 'the sentinel-discovered master to serve reads and writes through ioredis after the failover',
    });
    const role = (await client.call('ROLE')) as unknown[];
    assert.equal(role[0], 'master');
    assert.equal(await client.get('run:2'), 'queued');
  });
});
