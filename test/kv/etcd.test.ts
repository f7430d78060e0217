import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEtcdKvStore } from '../../adapters/kv/etcd.ts';
import { startEtcd, type TestEtcd } from '../helpers/etcd-server.ts';

describe('etcd KV store specifics', () => {
  let etcd: TestEtcd;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });

  it('fails an open watch with KV.UNAVAILABLE naming etcd when the server goes away', async () => {
    const own = await startEtcd();
    const kv = createEtcdKvStore({ url: own.url, prefix: 'veer', timeoutMs: 500 });
    try {
      const { position } = await kv.list('gateways');
      const watch = kv.watch('gateways', { fromPosition: position });
      const it = watch[Symbol.asyncIterator]();
      const rev = await kv.put('gateways/shop', '{}');
      assert.equal((await it.next()).value?.revision, rev);
      const failure = it.next().then(
        () => undefined,
        (err: any) => err,
      );
      await own.stop();
      const err = await failure;
      assert.equal(err?.code, 'KV.UNAVAILABLE');
      assert.match(err.message, /^etcd at http:\/\/127\.0\.0\.1:\d+ is unreachable or failing during watch veer\/gateways/);
    } finally {
      await kv.close();
      await own.stop();
    }
  });

  it('reports KV.COMPACTED for a watch from a compacted revision', async () => {
    const kv = createEtcdKvStore({ url: etcd.url, prefix: 'compact' });
    const { Etcd3 } = await import('etcd3');
    const raw = new Etcd3({ hosts: etcd.url });
    try {
      const { position } = await kv.list('');
      await kv.put('k', '1');
      const last = await kv.put('k', '2');
      await raw.kv.compact({ revision: last });
      const watch = kv.watch('k', { fromPosition: position });
      await assert.rejects(watch[Symbol.asyncIterator]().next(), { code: 'KV.COMPACTED' });
      await kv.delete('k');
    } finally {
      raw.close();
      await kv.close();
    }
  });
});
