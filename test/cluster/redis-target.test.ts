import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig } from '../../boot/config.ts';
import { createSystem } from '../../boot/system.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { VeerError } from '../../engine/shared/errors.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';

describe('choosing the Redis topology from the environment', () => {
  it('uses one server by default, a Cluster or Sentinels when named, with credentials for the data nodes', () => {
    assert.deepEqual(loadConfig({}).redis, { mode: 'single', url: 'redis://127.0.0.1:6379' });
    assert.deepEqual(loadConfig({ VEER_REDIS_CLUSTER_NODES: '127.0.0.1:7000, 127.0.0.1:7001', VEER_REDIS_PASSWORD: 'pw', VEER_REDIS_TLS: 'true' }).redis, {
      mode: 'cluster',
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '127.0.0.1', port: 7001 },
      ],
      auth: { password: 'pw', tls: true },
    });
    const s = loadConfig({ VEER_REDIS_SENTINELS: '127.0.0.1:26379', VEER_REDIS_SENTINEL_NAME: 'main' });
    assert.deepEqual(s.redis, { mode: 'sentinel', sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'main' });
    // The KV store on the installation's Redis follows it, and its label holds no password.
    assert.equal(s.kv.url, 'redis-sentinel://main@127.0.0.1:26379');
  });

  it('refuses a malformed node list, both topologies at once, and Sentinels without a master name, naming the variable', () => {
    const refused = (env: Record<string, string>, variable: string) =>
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof VeerError && err.code === 'CONFIG' && err.message.includes(variable),
      );
    refused({ VEER_REDIS_CLUSTER_NODES: '127.0.0.1' }, 'VEER_REDIS_CLUSTER_NODES');
    refused({ VEER_REDIS_CLUSTER_NODES: '127.0.0.1:99999' }, 'VEER_REDIS_CLUSTER_NODES');
    refused({ VEER_REDIS_CLUSTER_NODES: '127.0.0.1:7000', VEER_REDIS_SENTINELS: '127.0.0.1:26379', VEER_REDIS_SENTINEL_NAME: 'm' }, 'VEER_REDIS_SENTINELS');
    refused({ VEER_REDIS_SENTINELS: '127.0.0.1:26379' }, 'VEER_REDIS_SENTINEL_NAME');
  });
});

describe('upgrading from the layout without hash tags', () => {
  let redis: TestRedis;
  let raw: Redis;
  before(async () => {
    redis = await startRedis();
    raw = new Redis(redis.port, '127.0.0.1');
  });
  after(async () => {
    raw?.disconnect();
    await redis?.stop();
  });

  it('renames every Veer key into its slot family at start-up and keeps other installations’ keys alone', async () => {
    const old = {
      workflows: ['veer:workflows', 'set'],
      wf: ['veer:wf:shop', 'string'],
      state: ['veer:wf:shop:state', 'hash'],
      run: ['veer:run:r1', 'hash'],
      queue: ['veer:q:runs:wait', 'list'],
      scheduler: ['veer:scheduler:desired', 'hash'],
      secrets: ['veer:secrets', 'hash'],
    } as const;
    await raw.sadd('veer:workflows', 'shop');
    await raw.set('veer:wf:shop', JSON.stringify({ name: 'shop', version: 1 }));
    await raw.hset('veer:wf:shop:state', 'step', '2');
    await raw.hset('veer:run:r1', 'status', '"succeeded"');
    await raw.rpush('veer:q:runs:wait', 'r2');
    await raw.hset('veer:scheduler:desired', 'web', '{}');
    await raw.hset('veer:secrets', 'token', '{}');
    await raw.set('veerx:wf:other', 'not ours');
    const system = await createSystem(loadConfig({ ...redis.env, VEER_REDIS_PREFIX: 'veer' }), silentLogger());
    try {
      assert.deepEqual(await system.stores.workflows.get('shop').then((w) => w?.name), 'shop');
      assert.equal(await raw.exists(...Object.values(old).map(([k]) => k)), 0, 'no key is left under the old names');
      assert.equal(await raw.hget('{veer}:wf:shop:state', 'step'), '2');
      assert.equal(await raw.hget('{veer}:run:r1', 'status'), '"succeeded"');
      assert.deepEqual(await raw.lrange('{veer:q}:runs:wait', 0, -1), ['r2']);
      assert.equal(await raw.hget('{veer:scheduler}:desired', 'web'), '{}');
      assert.equal(await raw.get('veerx:wf:other'), 'not ours');
      // Later starts read this marker instead of scanning the whole keyspace again.
      assert.equal(await raw.get('{veer}:layout'), 'hash-tagged');
    } finally {
      await system.close();
    }
  });
});
