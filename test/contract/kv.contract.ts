import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { KvStore, KvWatch, KvWatchEvent } from '../../engine/ports/kv-store.ts';

/**
 * The one contract every KvStore implementation must satisfy; each test/contract/kv.<store>.test.ts
 * runs it against a real server (or the Consul double, or the in-memory double the gateway unit
 * tests use). What a gateway engineer relies on:
 * CRUD, compare-and-set, prefix listing, ordered lossless watches from a list() position,
 * typed errors, and TTL expiry where the store supports it.
 */
export interface KvContractTarget {
  /** A store scoped to `prefix` (a fresh store-level prefix per test) on the running server. */
  open(prefix: string): Promise<KvStore>;
  /** A store whose server is not reachable (a closed loopback port), with a short timeout. */
  openUnreachable(): Promise<KvStore>;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

export function runKvContract(name: string, start: () => Promise<KvContractTarget>): void {
  describe(`KvStore contract: ${name}`, () => {
    let target: KvContractTarget;

    before(async () => {
      target = await start();
    });
    after(async () => {
      await target?.stop();
    });

    /** A store on its own prefix; its keys are removed and it is closed when the test ends. */
    async function withStore(fn: (kv: KvStore) => Promise<void>): Promise<void> {
      const kv = await target.open(`veer-test-${randomBytes(4).toString('hex')}`);
      try {
        await fn(kv);
      } finally {
        try {
          const { entries } = await kv.list('');
          for (const e of entries) await kv.delete(e.key);
        } finally {
          await kv.close();
        }
      }
    }

    it('puts, gets and deletes a value, with a new revision on every write', () =>
      withStore(async (kv) => {
        assert.equal(await kv.get('gateways/shop'), undefined);
        const r1 = await kv.put('gateways/shop', '{"port":8080}');
        assert.match(r1, /^\d+$/);
        assert.deepEqual(await kv.get('gateways/shop'), { key: 'gateways/shop', value: '{"port":8080}', revision: r1 });
        const r2 = await kv.put('gateways/shop', '{"port":9090}');
        assert.notEqual(r2, r1);
        assert.deepEqual(await kv.get('gateways/shop'), { key: 'gateways/shop', value: '{"port":9090}', revision: r2 });
        await kv.put('gateways/empty', '');
        assert.equal((await kv.get('gateways/empty'))?.value, '');
        assert.equal(await kv.delete('gateways/shop'), true);
        assert.equal(await kv.get('gateways/shop'), undefined);
        assert.equal(await kv.delete('gateways/shop'), false);
      }));

    it('compare-and-set: succeeds on the current revision, conflicts on a stale one, creates only when absent with "0"', () =>
      withStore(async (kv) => {
        const r1 = await kv.put('cas/k', 'a', { ifRevision: '0' });
        await assert.rejects(kv.put('cas/k', 'b', { ifRevision: '0' }), (err: any) => {
          assert.equal(err.code, 'KV.CONFLICT');
          assert.equal(err.details.expected, '0');
          assert.equal(err.details.actual, r1);
          assert.match(err.message, new RegExp(kv.kind));
          return true;
        });
        const r2 = await kv.put('cas/k', 'b', { ifRevision: r1 });
        await assert.rejects(kv.put('cas/k', 'c', { ifRevision: r1 }), (err: any) => {
          assert.equal(err.code, 'KV.CONFLICT');
          assert.deepEqual([err.details.expected, err.details.actual], [r1, r2]);
          return true;
        });
        assert.equal((await kv.get('cas/k'))?.value, 'b');
        await assert.rejects(kv.delete('cas/k', { ifRevision: r1 }), { code: 'KV.CONFLICT' });
        assert.equal((await kv.get('cas/k'))?.value, 'b');
        assert.equal(await kv.delete('cas/k', { ifRevision: r2 }), true);
        await assert.rejects(kv.put('cas/k', 'd', { ifRevision: r2 }), (err: any) => err.code === 'KV.CONFLICT' && err.details.actual === '0');
        assert.equal(await kv.get('cas/k'), undefined);
      }));

    it('lists by whole-segment prefix, sorted, without sibling prefixes, with revisions matching get()', () =>
      withStore(async (kv) => {
        for (const k of ['gw/b', 'gw/a', 'gw/a/routes/v1', 'gw', 'gw2/x', 'gwx', 'other/gw/a']) await kv.put(k, `v:${k}`);
        const { entries, position } = await kv.list('gw');
        assert.match(position, /^\d+$/);
        assert.deepEqual(
          entries.map((e) => e.key),
          ['gw', 'gw/a', 'gw/a/routes/v1', 'gw/b'],
        );
        for (const e of entries) {
          assert.equal(e.value, `v:${e.key}`);
          assert.equal(e.revision, (await kv.get(e.key))?.revision);
        }
        assert.deepEqual(
          (await kv.list('gw/a')).entries.map((e) => e.key),
          ['gw/a', 'gw/a/routes/v1'],
        );
        assert.deepEqual((await kv.list('nothing/here')).entries, []);
        assert.equal((await kv.list('')).entries.length, 7);
      }));

    it('a watch from a list() position delivers puts and deletes in order, losing nothing written before it started', () =>
      withStore(async (kv) => {
        await kv.put('w/a', '0');
        await kv.put('elsewhere/x', '0');
        const { entries, position } = await kv.list('w');
        assert.deepEqual(
          entries.map((e) => [e.key, e.value]),
          [['w/a', '0']],
        );
        // Written after list() and before watch(): must still arrive.
        const rA1 = await kv.put('w/a', '1');
        const watch = kv.watch('w', { fromPosition: position });
        const rB = await kv.put('w/b', '2');
        await kv.put('elsewhere/x', '1');
        await kv.put('wx', 'sibling prefix');
        await kv.delete('w/a');
        const expectFinal = new Map([['w/b', '2']]);
        const state = new Map(entries.map((e) => [e.key, e.value]));
        const events = await collectUntil(watch, (e) => {
          if (e.type === 'put') state.set(e.key, e.value);
          else state.delete(e.key);
          return sameMap(state, expectFinal);
        });
        await watch.close();
        for (const e of events) assert.ok(e.key === 'w/a' || e.key === 'w/b', `unexpected key ${e.key}`);
        if (kv.capabilities.history !== false) {
          assert.deepEqual(
            events.map((e) => [e.type, e.key, e.type === 'put' ? e.value : null]),
            [
              ['put', 'w/a', '1'],
              ['put', 'w/b', '2'],
              ['delete', 'w/a', null],
            ],
          );
          assert.equal(events[0].revision, rA1);
          assert.equal(events[1].revision, rB);
        } else {
          // Coalescing stores: the last event of each key is its final state.
          assert.equal(events.filter((e) => e.key === 'w/a').at(-1)?.type, 'delete');
          assert.deepEqual(events.filter((e) => e.key === 'w/b').at(-1), { type: 'put', key: 'w/b', value: '2', revision: rB });
        }
      }));

    it('a watch delivers each change of a step-by-step sequence, and resumes from an event revision', () =>
      withStore(async (kv) => {
        const { position } = await kv.list('');
        const watch = kv.watch('s', { fromPosition: position });
        const it = watch[Symbol.asyncIterator]();
        const r1 = await kv.put('s/k', 'one');
        assert.deepEqual((await it.next()).value, { type: 'put', key: 's/k', value: 'one', revision: r1 });
        await kv.delete('s/k');
        const del = (await it.next()).value as KvWatchEvent;
        assert.equal(del.type, 'delete');
        assert.equal(del.key, 's/k');
        await watch.close();
        assert.equal((await it.next()).done, true, 'a closed watch ends');
        // Resume from the last event: only later changes arrive.
        const r2 = await kv.put('s/k', 'two');
        const resumed = kv.watch('s', { fromPosition: del.revision });
        const first = await resumed[Symbol.asyncIterator]().next();
        assert.deepEqual(first.value, { type: 'put', key: 's/k', value: 'two', revision: r2 });
        await resumed.close();
      }));

    it('a watch ends when its signal aborts', () =>
      withStore(async (kv) => {
        const controller = new AbortController();
        const watch = kv.watch('a', { signal: controller.signal });
        const pending = watch[Symbol.asyncIterator]().next();
        controller.abort();
        assert.equal((await pending).done, true);
      }));

    it('rejects invalid keys with KV.INVALID', () =>
      withStore(async (kv) => {
        for (const bad of ['', '/abs', 'trailing/', 'a//b', 'a/../b', 'sp ace']) {
          await assert.rejects(kv.put(bad, 'x'), { code: 'KV.INVALID' }, `key ${JSON.stringify(bad)}`);
        }
        await assert.rejects(kv.put('k', 'x', { ifRevision: 'abc' }), { code: 'KV.INVALID' });
      }));

    it('fails with a retryable KV.UNAVAILABLE naming the store when it is unreachable', async () => {
      const kv = await target.openUnreachable();
      try {
        for (const op of [() => kv.get('gateways/shop'), () => kv.put('gateways/shop', 'x'), () => kv.list('gateways')]) {
          await assert.rejects(op(), (err: any) => {
            assert.equal(err.code, 'KV.UNAVAILABLE');
            assert.equal(err.retryable, true);
            assert.match(err.message, new RegExp(`${kv.kind} at `));
            assert.match(err.message, /gateways/);
            return true;
          });
        }
        const watch = kv.watch('gateways');
        await assert.rejects(watch[Symbol.asyncIterator]().next(), { code: 'KV.UNAVAILABLE' });
        await watch.close();
      } finally {
        await kv.close();
      }
    });

    it('expires a key written with ttlSeconds and tells watchers with a delete event', async (t) => {
      const probe = await target.open('veer-test-probe');
      const supported = probe.capabilities.ttl;
      await probe.close();
      if (!supported) {
        t.skip(`${name}: capabilities.ttl is false (see the adapter's doc comment for why)`);
        return;
      }
      await withStore(async (kv) => {
        const { position } = await kv.list('agents');
        const watch = kv.watch('agents', { fromPosition: position });
        await kv.put('agents/a1', 'alive', { ttlSeconds: 1 });
        await kv.put('agents/keep', 'no ttl');
        // Written with a TTL, then again without one: the second put makes it permanent.
        await kv.put('agents/refreshed', 'x', { ttlSeconds: 1 });
        await kv.put('agents/refreshed', 'y');
        await kv.put('agents/a3', 'alive', { ttlSeconds: 1 });
        const expired = new Set<string>();
        const events = await collectUntil(watch, (e) => e.type === 'delete' && expired.add(e.key).size === 2);
        await watch.close();
        // Expiry order between keys is the store's business (etcd leases expire in any order).
        assert.deepEqual([...expired].sort(), ['agents/a1', 'agents/a3']);
        assert.equal(events.filter((e) => e.type === 'delete').length, 2);
        assert.equal(await kv.get('agents/a1'), undefined);
        assert.equal((await kv.get('agents/keep'))?.value, 'no ttl');
        assert.equal((await kv.get('agents/refreshed'))?.value, 'y');
        assert.deepEqual(
          (await kv.list('agents')).entries.map((e) => e.key),
          ['agents/keep', 'agents/refreshed'],
        );
      });
    });
  });
}

/** Reads events until `stop(event)` is true (with a deadline), returning all read. */
export async function collectUntil(watch: KvWatch, stop: (e: KvWatchEvent) => boolean, timeoutMs = 15_000): Promise<KvWatchEvent[]> {
  const events: KvWatchEvent[] = [];
  const it = watch[Symbol.asyncIterator]();
  const deadline = setTimeout(() => void watch.close(), timeoutMs);
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) throw new Error(`watch ended before the expected events arrived; got ${JSON.stringify(events)}`);
      events.push(r.value);
      if (stop(r.value)) return events;
    }
  } finally {
    clearTimeout(deadline);
  }
}

function sameMap(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...b].every(([k, v]) => a.get(k) === v);
}
