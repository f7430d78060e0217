import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createZookeeperKvStore } from '../../adapters/kv/zookeeper.ts';
import { collectUntil } from '../contract/kv.contract.ts';
import { startZookeeper } from '../helpers/zookeeper-server.ts';

describe('zookeeper KV store specifics', () => {
  it('keeps keys that have children when their parent key is deleted, and fails watches when the server goes away', async () => {
    const zk = await startZookeeper();
    const kv = createZookeeperKvStore({ url: zk.url, prefix: 'veer/specifics', timeoutMs: 1000 });
    try {
      await kv.put('gw', 'parent');
      await kv.put('gw/child', 'child');
      assert.equal(await kv.delete('gw'), true);
      assert.equal(await kv.get('gw'), undefined);
      assert.deepEqual(
        (await kv.list('gw')).entries.map((e) => [e.key, e.value]),
        [['gw/child', 'child']],
      );
      // A position from a previous store instance is unknown here: the watch says so.
      const other = createZookeeperKvStore({ url: zk.url, prefix: 'veer/specifics' });
      const unknown = other.watch('gw', { fromPosition: (await kv.list('gw')).position });
      await assert.rejects(unknown[Symbol.asyncIterator]().next(), { code: 'KV.COMPACTED' });
      await other.close();

      const { position } = await kv.list('gw');
      const watch = kv.watch('gw', { fromPosition: position });
      await kv.put('gw/child', 'changed');
      const [event] = await collectUntil(watch, () => true);
      assert.deepEqual([event.type, event.key], ['put', 'gw/child']);
      const failure = watch[Symbol.asyncIterator]()
        .next()
        .then(
          () => undefined,
          (err: any) => err,
        );
      await zk.stop();
      const err = await failure;
      assert.equal(err?.code, 'KV.UNAVAILABLE');
      assert.match(err.message, /^zookeeper at 127\.0\.0\.1:\d+ is unreachable or failing during watch \/veer\/specifics\/gw/);
    } finally {
      await kv.close();
      await zk.stop();
    }
  });
});
