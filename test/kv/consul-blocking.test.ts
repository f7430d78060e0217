import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createConsulKvStore } from '../../adapters/kv/consul.ts';
import type { KvWatchEvent } from '../../engine/ports/kv-store.ts';
import { collectUntil } from '../contract/kv.contract.ts';
import { startConsulDouble } from '../doubles/consul.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Blocking-query and request-size rules of https://developer.hashicorp.com/consul/api-docs/features/blocking and /api-docs/txn. */
describe('consul KV store: blocking queries and limits', () => {
  it('outlasts the wait/16 jitter Consul adds to a blocking query instead of timing out', async () => {
    // 'max': every blocking query is held wait + wait/16. A client timeout of wait + timeoutMs fails here.
    const consul = await startConsulDouble({ jitter: 'max' });
    const kv = createConsulKvStore({ url: consul.url, watchWaitMs: 1600, timeoutMs: 200 });
    try {
      const { position } = await kv.list('gateways');
      const watch = kv.watch('gateways', { fromPosition: position });
      const it = watch[Symbol.asyncIterator]();
      let failure: unknown;
      const next = it.next().catch((err) => (failure = err));
      const blocking = () => consul.requests.filter((r) => r.includes('index=')).length;
      // Two blocking queries came back empty (each after the full wait + jitter) and a third is open.
      await waitFor(() => failure ?? blocking() >= 3, { timeoutMs: 10_000, what: 'three blocking queries' });
      assert.equal(failure, undefined, `the watch failed: ${(failure as Error)?.message}`);
      assert.ok(
        consul.requests.some((r) => /wait=1600ms/.test(r)),
        'the wait sent is the one the timeout is computed from',
      );
      const rev = await kv.put('gateways/shop', '{}');
      assert.deepEqual(((await next) as IteratorResult<KvWatchEvent>).value, { type: 'put', key: 'gateways/shop', value: '{}', revision: rev });
      await watch.close();
    } finally {
      await kv.close();
      await consul.stop();
    }
  });

  it('refuses a write over the 512 KiB txn limit before sending it, with KV.TOO_LARGE (not retryable)', async () => {
    const consul = await startConsulDouble();
    const kv = createConsulKvStore({ url: consul.url });
    try {
      await kv.put('gateways/small', 'x'.repeat(300 * 1024)); // base64: 400 KiB, under the limit
      const before = consul.requests.length;
      await assert.rejects(kv.put('gateways/big', 'x'.repeat(400 * 1024)), (err: any) => {
        assert.equal(err.code, 'KV.TOO_LARGE');
        assert.equal(err.retryable, false);
        assert.match(err.message, /veer\/gateways\/big is \d+ bytes, over the 524288-byte limit/);
        return true;
      });
      assert.equal(consul.requests.length, before, 'nothing was sent');
    } finally {
      await kv.close();
      await consul.stop();
    }
  });

  it('resets the index to 0 when X-Consul-Index goes backwards (snapshot restore) and follows the restored state', async () => {
    const consul = await startConsulDouble();
    const kv = createConsulKvStore({ url: consul.url, watchWaitMs: 60_000 });
    try {
      const kept = await kv.put('gateways/kept', '1');
      const snapshot = consul.snapshot();
      await kv.put('gateways/kept', '2');
      await kv.put('gateways/gone', '{}');
      const { position } = await kv.list('gateways');
      const watch = kv.watch('gateways', { fromPosition: position });
      const seen = new Set<string>();
      const restoredP = collectUntil(watch, (e) => seen.add(e.key).size === 2, 5000);
      await waitFor(() => consul.blocking() === 1, { what: 'the blocking query to be held' });
      const from = consul.requests.length;
      consul.restore(snapshot); // the index goes back below `position`; the held query answers at once
      const restored = await restoredP;
      assert.deepEqual(restored.map((e) => `${e.type} ${e.key}`).sort(), ['delete gateways/gone', 'put gateways/kept']);
      assert.equal(restored.find((e) => e.type === 'put')?.revision, kept);
      // The first read after the backwards answer does not block on the stale index; then blocking resumes.
      const next = collectUntil(watch, () => true, 5000);
      const reads = () => consul.requests.slice(from).filter((r) => r.startsWith('GET /v1/kv/veer%2Fgateways?'));
      await waitFor(() => reads().length >= 2, { what: 'the reads after the restore' });
      assert.doesNotMatch(reads()[0], /index=/, `expected a fresh read after the index went backwards: ${JSON.stringify(reads())}`);
      assert.match(reads()[1], new RegExp(`index=${consul.index()}&`), 'blocking again, from the restored index');
      const rev = await kv.put('gateways/new', '{}');
      assert.deepEqual(await next, [{ type: 'put', key: 'gateways/new', value: '{}', revision: rev }]);
      await watch.close();
    } finally {
      await kv.close();
      await consul.stop();
    }
  });
});
