import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createEtcdKvStore } from '../../adapters/kv/etcd.ts';
import type { KvStore } from '../../engine/ports/kv-store.ts';
import { collectUntil } from '../contract/kv.contract.ts';
import { startEtcd, type TestEtcd } from '../helpers/etcd-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * The etcd adapter follows etcd back: once etcd answers again, reads, writes and new watches
 * work within RECOVERY_MS. (etcd3's default per-host circuit breaker opened after three
 * failures and refused every call for 5 s after etcd was healthy again, which kept the API
 * and the gateway agent failing that long.) The deadline asserted is the bound times a
 * factor for loaded machines; the figure measured is printed as a test diagnostic.
 */
const RECOVERY_MS = 1000;
const DEADLINE_MS = RECOVERY_MS * 2.5;

describe('etcd adapter: recovery after an etcd outage', () => {
  let etcd: TestEtcd;
  let kv: KvStore;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });
  // A store per test: one outage's client state must not carry into the next test.
  beforeEach(() => {
    kv = createEtcdKvStore({ url: etcd.url, prefix: `recovery-${Math.random().toString(36).slice(2)}`, timeoutMs: 1000 });
  });
  afterEach(async () => {
    await kv?.delete('gateways/shop').catch(() => undefined);
    await kv?.close();
  });

  /** Fails a few calls against the dead store, so any breaker has tripped. */
  async function failSome(): Promise<void> {
    for (let i = 0; i < 6; i++) {
      await assert.rejects(i % 2 ? kv.get('gateways/shop') : kv.put('gateways/shop', `{"i":${i}}`), { code: 'KV.UNAVAILABLE' });
    }
  }

  /** ms from `t0` until a put, a get and a watch from the put's position all work. */
  async function recoveredAfter(t0: number, what: string): Promise<number> {
    await waitFor(
      async () => {
        const rev = await kv.put('gateways/shop', '{"back":true}');
        return (await kv.get('gateways/shop'))?.revision === rev;
      },
      { timeoutMs: DEADLINE_MS, intervalMs: 20, what },
    );
    const ms = Date.now() - t0;
    const { position } = await kv.list('gateways');
    const watch = kv.watch('gateways', { fromPosition: position });
    const rev = await kv.put('gateways/shop', '{"watched":true}');
    assert.equal((await collectUntil(watch, () => true, DEADLINE_MS))[0]?.revision, rev);
    await watch.close();
    return ms;
  }

  it(`reads and writes again within ${RECOVERY_MS} ms of a killed etcd answering again`, async (t) => {
    await kv.put('gateways/shop', '{}');
    await etcd.kill('SIGKILL');
    await failSome();
    await etcd.restart(); // resolves as /health answers true
    const ms = await recoveredAfter(Date.now(), 'put + get after the restart');
    t.diagnostic(`etcd SIGKILL + restart: reads and writes succeeded ${ms} ms after etcd answered /health (bound ${RECOVERY_MS} ms)`);
    assert.ok(ms < DEADLINE_MS, `${ms} ms`);
  });

  it(`reads and writes again within ${RECOVERY_MS} ms of a hung (SIGSTOP) etcd resuming`, async (t) => {
    await kv.put('gateways/shop', '{}');
    etcd.pause();
    await failSome();
    await etcd.resume();
    const ms = await recoveredAfter(Date.now(), 'put + get after SIGCONT');
    t.diagnostic(`etcd SIGSTOP + SIGCONT: reads and writes succeeded ${ms} ms after etcd answered /health (bound ${RECOVERY_MS} ms)`);
    assert.ok(ms < DEADLINE_MS, `${ms} ms`);
  });
});
