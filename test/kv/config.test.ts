import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKvStore, loadKvConfig } from '../../adapters/kv/index.ts';

describe('KV config and factory', () => {
  it('defaults to the engine Redis with prefix veer, and per-store URLs otherwise', () => {
    assert.deepEqual(loadKvConfig({}, 'redis://127.0.0.1:7777'), { kind: 'redis', url: 'redis://127.0.0.1:7777', prefix: 'veer', timeoutMs: 5000 });
    assert.equal(loadKvConfig({ VEER_KV: 'etcd' }).url, 'http://127.0.0.1:2379');
    assert.equal(loadKvConfig({ VEER_KV: 'consul' }).url, 'http://127.0.0.1:8500');
    assert.equal(loadKvConfig({ VEER_KV: 'zookeeper' }).url, '127.0.0.1:2181');
    const consul = loadKvConfig({ VEER_KV: 'consul', VEER_KV_URL: 'http://10.0.0.1:8500', VEER_KV_PREFIX: '/vamp/', VEER_KV_TOKEN: 't' });
    assert.deepEqual(consul, { kind: 'consul', url: 'http://10.0.0.1:8500', prefix: 'vamp', timeoutMs: 5000, token: 't' });
    assert.deepEqual(loadKvConfig({ VEER_KV: 'etcd', VEER_KV_USERNAME: 'u', VEER_KV_PASSWORD: 'p' }).auth, { username: 'u', password: 'p' });
  });

  it('rejects a bad value naming the variable', () => {
    assert.throws(
      () => loadKvConfig({ VEER_KV: 'vault' }),
      (err: any) => err.code === 'CONFIG' && /VEER_KV/.test(err.message),
    );
    assert.throws(() => loadKvConfig({ VEER_KV_PREFIX: 'a b' }), /VEER_KV_PREFIX/);
    assert.throws(() => loadKvConfig({ VEER_KV_TIMEOUT_MS: '-1' }), /VEER_KV_TIMEOUT_MS/);
  });

  it('maps VEER_KV to the adapter, connecting lazily', async () => {
    for (const kind of ['redis', 'etcd', 'consul', 'zookeeper'] as const) {
      const kv = await createKvStore(loadKvConfig({ VEER_KV: kind }));
      assert.equal(kv.kind, kind);
      assert.equal(kv.capabilities.ttl, kind === 'redis' || kind === 'etcd');
      await kv.close();
    }
  });
});
