import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createConsulKvStore } from '../../adapters/kv/consul.ts';
import type { KvWatchEvent } from '../../engine/ports/kv-store.ts';
import { startConsulDouble, type ConsulAclRule } from '../doubles/consul.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * Consul ACLs filter what a token may not read instead of refusing it, and refuse txn writes
 * with 409 "Permission denied". Neither may look like "every gateway was deleted" or a CAS
 * conflict (which the gateway service retries): both must surface as KV.FORBIDDEN.
 */
const rw: ConsulAclRule[] = [{ prefix: 'veer/', policy: 'write' }];
const readOnly: ConsulAclRule[] = [{ prefix: 'veer/', policy: 'read' }];

/** Next event or error of a watch, within `ms`. */
async function nextOf(it: AsyncIterator<KvWatchEvent>, ms = 5000): Promise<{ event?: KvWatchEvent; error?: any }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no event or error within ${ms} ms`)), ms)));
  try {
    return await Promise.race([
      it.next().then(
        (r) => ({ event: r.value }),
        (error) => ({ error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('consul KV store and ACLs', () => {
  it('fails the watch with KV.FORBIDDEN, delivering no delete, when the token loses read on the gateways (filtered, with header)', async () => {
    const consul = await startConsulDouble({ tokens: { veer: rw, admin: [{ prefix: '', policy: 'write' }] } });
    const kv = createConsulKvStore({ url: consul.url, token: 'veer', watchWaitMs: 60_000 });
    const admin = createConsulKvStore({ url: consul.url, token: 'admin' });
    try {
      await kv.put('gateways/a', '{}');
      await kv.put('gateways/b', '{}');
      const { position } = await kv.list('gateways');
      const it = kv.watch('gateways', { fromPosition: position })[Symbol.asyncIterator]();
      const pending = nextOf(it);
      // The policy is edited: 'gateways/' hidden. Consul answers 404 + X-Consul-Results-Filtered-By-ACLs.
      consul.setRules('veer', [...rw, { prefix: 'veer/gateways/', policy: 'deny' }]);
      await admin.put('gateways/c', '{}'); // wakes the blocking query (an ACL edit does not)
      const { event, error } = await pending;
      assert.equal(event, undefined, `the watch delivered ${JSON.stringify(event)} for keys it can no longer see`);
      assert.equal(error?.code, 'KV.FORBIDDEN');
      assert.match(error.message, /filtered the answer by ACLs.*VEER_KV_TOKEN/);
      await assert.rejects(kv.list('gateways'), { code: 'KV.FORBIDDEN' });
    } finally {
      await admin.close();
      await kv.close();
      await consul.stop();
    }
  });

  it('confirms vanished keys for the anonymous token (no header): hidden is KV.FORBIDDEN, deleted is a delete', async () => {
    const consul = await startConsulDouble({ tokens: { admin: [{ prefix: '', policy: 'write' }] }, anonymous: rw });
    const admin = createConsulKvStore({ url: consul.url, token: 'admin' });
    const kv = createConsulKvStore({ url: consul.url, watchWaitMs: 60_000 });
    try {
      await admin.put('gateways/a', '{}');
      await admin.put('gateways/b', '{}');
      const { position } = await kv.list('gateways');
      const it = kv.watch('gateways', { fromPosition: position })[Symbol.asyncIterator]();
      const deleted = nextOf(it);
      await admin.delete('gateways/a', { ifRevision: (await admin.get('gateways/a'))!.revision });
      assert.equal((await deleted).event?.type, 'delete', 'a real delete is still a delete');
      // The anonymous policy loses 'gateways/b': Consul filters it out and, for anonymous, says nothing.
      const hidden = nextOf(it);
      consul.setRules('', [...rw, { prefix: 'veer/gateways/b', policy: 'deny' }]);
      await admin.put('gateways/c', '{}'); // wakes the blocking query (an ACL edit does not)
      const { event, error } = await hidden;
      assert.equal(event, undefined, `the watch delivered ${JSON.stringify(event)} for a key it can no longer see`);
      assert.equal(error?.code, 'KV.FORBIDDEN');
    } finally {
      await kv.close();
      await admin.close();
      await consul.stop();
    }
  });
});

describe('consul KV store: refused writes and the start-up access check', () => {
  it('reports a txn write refused by ACLs (409 "Permission denied") as KV.FORBIDDEN once, not as a CAS conflict', async () => {
    const consul = await startConsulDouble({ tokens: { veer: rw } });
    const kv = createConsulKvStore({ url: consul.url, token: 'veer' });
    try {
      const rev = await kv.put('gateways/shop', '{}');
      consul.setRules('veer', readOnly); // write taken away after start-up
      const before = consul.requests.length;
      await assert.rejects(kv.put('gateways/shop', '{"v":2}', { ifRevision: rev }), (err: any) => {
        assert.equal(err.code, 'KV.FORBIDDEN');
        assert.match(err.message, /Permission denied: token with AccessorID '[^']+' lacks permission 'key:write' on "veer\/gateways\/shop".*VEER_KV_TOKEN/);
        return true;
      });
      const txns = consul.requests.slice(before).filter((r) => r.startsWith('PUT /v1/txn'));
      assert.equal(txns.length, 1, 'one write attempt, no retry loop');
      const raw = await fetch(`${consul.url}/v1/kv/veer/gateways/shop?raw`, { headers: { 'X-Consul-Token': 'veer' } });
      assert.equal(await raw.text(), '{}', 'nothing was written');
      // After a refusal the store checks its access again, so every later call names the cause.
      await assert.rejects(kv.get('gateways/shop'), /may not write keys under veer\//);
    } finally {
      await kv.close();
      await consul.stop();
    }
  });

  it('checks read and write on the prefix before the first operation, naming the token and prefix, and checks again once fixed', async () => {
    const consul = await startConsulDouble({ tokens: { veer: readOnly, none: [] } });
    const stores = [createConsulKvStore({ url: consul.url, token: 'veer' }), createConsulKvStore({ url: consul.url, token: 'none' })];
    const unknown = createConsulKvStore({ url: consul.url, token: 'nope' });
    try {
      const [writeless, readless] = stores;
      // A read-only token would read fine and fail only at the first weight change: refuse at once.
      await assert.rejects(writeless.list('gateways'), (err: any) => {
        assert.equal(err.code, 'KV.FORBIDDEN');
        assert.match(err.message, /the token in VEER_KV_TOKEN may not write keys under veer\/.*VEER_KV_PREFIX/);
        return true;
      });
      await assert.rejects(readless.get('gateways/shop'), /may not read keys under veer\//);
      await assert.rejects(unknown.get('gateways/shop'), (err: any) => err.code === 'KV.FORBIDDEN' && /ACL not found/.test(err.message));
      assert.equal(consul.index(), 10, 'the checks wrote nothing (the raft index did not move)');
      consul.setRules('veer', rw);
      assert.deepEqual((await writeless.list('gateways')).entries, []);
      await waitFor(async () => (await writeless.put('gateways/shop', '{}')) !== undefined, { timeoutMs: 2000, what: 'a write after the policy was fixed' });
    } finally {
      await Promise.all([...stores, unknown].map((s) => s.close()));
      await consul.stop();
    }
  });
});
