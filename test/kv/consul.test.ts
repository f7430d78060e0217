import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createConsulKvStore } from '../../adapters/kv/consul.ts';
import { collectUntil, runKvContract } from '../contract/kv.contract.ts';
import { startConsulDouble } from '../doubles/consul.ts';
import { freePort } from '../helpers/free-port.ts';

/** The Consul double (no Consul can run here); set CONSUL_URL to run against a real Consul. */
runKvContract(process.env.CONSUL_URL ? 'consul' : 'consul (double)', async () => {
  const consul = process.env.CONSUL_URL ? { url: process.env.CONSUL_URL, stop: async () => {} } : await startConsulDouble();
  return {
    open: async (prefix) => createConsulKvStore({ url: consul.url, prefix, token: process.env.CONSUL_TOKEN }),
    openUnreachable: async () => createConsulKvStore({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 500 }),
    stop: () => consul.stop(),
  };
});

describe('consul KV store specifics', () => {
  it('sends the ACL token, and fails an open blocking watch with KV.UNAVAILABLE when Consul goes away', async () => {
    const consul = await startConsulDouble({ token: 'secret' });
    const denied = createConsulKvStore({ url: consul.url, prefix: 'veer' });
    const kv = createConsulKvStore({ url: consul.url, prefix: 'veer', token: 'secret', watchWaitMs: 60_000 });
    try {
      await assert.rejects(denied.get('gateways/shop'), (err: any) => err.code === 'KV.UNAVAILABLE' && /consul at http:\/\/127\.0\.0\.1:\d+/.test(err.message));
      const { position } = await kv.list('gateways');
      const watch = kv.watch('gateways', { fromPosition: position });
      const rev = await kv.put('gateways/shop', '{}');
      const [event] = await collectUntil(watch, () => true);
      assert.deepEqual(event, { type: 'put', key: 'gateways/shop', value: '{}', revision: rev });
      // The next read is a blocking query that is in flight when the server stops.
      const failure = watch[Symbol.asyncIterator]().next().then(() => undefined, (err: any) => err);
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
