import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createConsulKvStore } from '../../adapters/kv/consul.ts';
import { collectUntil } from '../contract/kv.contract.ts';
import { startConsulDouble } from '../doubles/consul.ts';

describe('consul KV store specifics', () => {
  it('sends the ACL token, and fails an open blocking watch with KV.UNAVAILABLE when Consul goes away', async () => {
    const consul = await startConsulDouble({ token: 'secret' });
    const denied = createConsulKvStore({ url: consul.url, prefix: 'veer' });
    const kv = createConsulKvStore({ url: consul.url, prefix: 'veer', token: 'secret', watchWaitMs: 60_000 });
    try {
      // Without the token Consul answers as the anonymous token, which may read nothing here.
      await assert.rejects(
        denied.get('gateways/shop'),
        (err: any) => err.code === 'KV.FORBIDDEN' && /consul at http:\/\/127\.0\.0\.1:\d+.*VEER_KV_TOKEN/.test(err.message),
      );
      const { position } = await kv.list('gateways');
      const watch = kv.watch('gateways', { fromPosition: position });
      const rev = await kv.put('gateways/shop', '{}');
      const [event] = await collectUntil(watch, () => true);
      assert.deepEqual(event, { type: 'put', key: 'gateways/shop', value: '{}', revision: rev });
      // The next read is a blocking query that is in flight when the server stops.
      const failure = watch[Symbol.asyncIterator]()
        .next()
        .then(
          () => undefined,
          (err: any) => err,
        );
      await consul.stop();
      const err = await failure;
      assert.equal(err?.code, 'KV.UNAVAILABLE');
      assert.match(err.message, /during watch veer\/gateways/);
    } finally {
      await denied.close();
      await kv.close();
      await consul.stop();
    }
  });
});
