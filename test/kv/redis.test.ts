import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisKvStore } from '../../adapters/kv/redis.ts';
import { collectUntil } from '../contract/kv.contract.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';

describe('redis KV store specifics', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  it('reports KV.COMPACTED when a watch position fell behind the trimmed change log', async () => {
    const kv = createRedisKvStore({ url: redis.url, target: redis.target, prefix: 'trim', logMaxLen: 10 });
    try {
      const { position } = await kv.list('');
      for (let i = 0; i < 300; i++) await kv.put(`k/${i % 3}`, String(i));
      const watch = kv.watch('k', { fromPosition: position });
      await assert.rejects(watch[Symbol.asyncIterator]().next(), (err: any) => {
        assert.equal(err.code, 'KV.COMPACTED');
        assert.match(err.message, /list\(\) again/);
        return true;
      });
      // The documented recovery: list again and watch from there.
      const again = await kv.list('k');
      assert.deepEqual(
        again.entries.map((e) => e.value),
        ['297', '298', '299'],
      );
      const fresh = kv.watch('k', { fromPosition: again.position });
      await kv.put('k/0', 'next');
      const [event] = await collectUntil(fresh, () => true);
      assert.deepEqual([event.type, event.key], ['put', 'k/0']);
      await fresh.close();
    } finally {
      await kv.close();
    }
  });

  it('fails an open watch with KV.UNAVAILABLE when Redis goes away, and keeps keys in one hash-tagged slot', async () => {
    const own = await startRedis({ own: true });
    const kv = createRedisKvStore({ url: own.url, prefix: 'veer', timeoutMs: 1000, blockMs: 200 });
    try {
      await kv.put('gateways/shop', '{}');
      const raw = new Redis(own.url);
      const keys = (await raw.keys('*')).sort();
      raw.disconnect();
      assert.ok(
        keys.every((k) => k.startsWith('{veer:kv}:')),
        keys.join(','),
      );
      const watch = kv.watch('gateways');
      const failure = watch[Symbol.asyncIterator]()
        .next()
        .then(
          () => undefined,
          (err: any) => err,
        );
      await own.stop();
      const err = await failure;
      assert.equal(err?.code, 'KV.UNAVAILABLE');
      assert.match(err.message, /redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable or failing during watch veer\/gateways/);
      await assert.rejects(kv.get('gateways/shop'), { code: 'KV.UNAVAILABLE' });
    } finally {
      await kv.close();
      await own.stop();
    }
  });
});
