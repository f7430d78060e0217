import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createElasticsearchMetricsStore } from '../../adapters/metrics/elasticsearch.ts';
import { NOW, traffic } from '../contract/metrics-store.contract.ts';
import { esTargets, type EsTarget } from '../contract/elasticsearch-targets.ts';

/** What a busy or flaky cluster does to request samples: none may be lost, none counted twice, no verdict on partial numbers. */
for (const target of esTargets({ doublesOnly: true }))
  describe(`metrics on a busy Elasticsearch (${target.name})`, () => {
    let es: EsTarget;
    before(async () => {
      es = await target.start();
    });
    after(async () => {
      await es.stop();
    });
    const store = (o: { itemRetries?: number } = {}) =>
      createElasticsearchMetricsStore({
        client: es.client,
        indexPrefix: `t-${randomUUID().slice(0, 8)}`,
        now: () => NOW,
        itemBackoff: { minMs: 1, maxMs: 10 },
        ...o,
      });
    const samples = (n: number) =>
      traffic(
        'shop',
        'v1',
        n,
        () => 200,
        () => 10,
      );

    it('resends only the items refused with 429, until they are in', async () => {
      const s = store();
      es.double!.rejectBulkItems(30);
      const bulks = es.double!.requests.filter((r) => r.path === '/_bulk').length;
      assert.deepEqual(await s.record(samples(100)), { accepted: 100, rejected: 0 });
      assert.equal((await s.query('shop', { windowMs: 60_000 })).requests, 100);
      assert.ok(es.double!.requests.filter((r) => r.path === '/_bulk').length > bulks + 1, 'the refused items went again');
    });

    it('counts items still refused after its retries as rejected', async () => {
      const s = store({ itemRetries: 2 });
      const stop = es.double!.rejectBulkItems(1000);
      try {
        assert.deepEqual(await s.record(samples(10)), { accepted: 0, rejected: 10 });
      } finally {
        stop();
      }
    });

    it('a bulk the client resends after the cluster applied it counts each request once', async () => {
      const s = store();
      es.double!.applyNextBulkThenFail(502);
      assert.deepEqual(await s.record(samples(100)), { accepted: 100, rejected: 0 });
      assert.equal((await s.query('shop', { windowMs: 60_000 })).requests, 100);
    });

    it('refuses to answer from partial results (METRICS.UNAVAILABLE): failed shards or a timed-out search', async () => {
      // A window across midnight spans two daily indices: one failing shard leaves a 200 with half the numbers.
      const midnight = Date.parse('2027-01-15T00:00:00.000Z');
      const prefix = `t-${randomUUID().slice(0, 8)}`;
      const s = createElasticsearchMetricsStore({ client: es.client, indexPrefix: prefix, now: () => midnight + 5000 });
      await s.record(samples(50).map((x, i) => ({ ...x, time: midnight - 10_000 + i * 300 })));
      const expectUnavailable = (err: Error & { code?: string }) => {
        assert.equal(err.code, 'METRICS.UNAVAILABLE');
        assert.match(err.message, /partial results/);
        return true;
      };
      for (const fault of [{ index: `${prefix}-requests-2027.01.14` }, { index: `${prefix}-requests-2027.01.15`, timedOut: true }]) {
        const heal = es.double!.failShards({ ...fault, times: 1 });
        try {
          await assert.rejects(s.query('shop', { windowMs: 60_000 }), expectUnavailable);
        } finally {
          heal();
        }
      }
      assert.equal((await s.query('shop', { windowMs: 60_000 })).requests, 50);
    });

    it('installs its template past other templates of the same priority on the same names', async () => {
      const prefix = `t-${randomUUID().slice(0, 8)}`;
      for (const priority of [200, 5302]) {
        await es.admin.indices.putIndexTemplate({
          name: `${prefix}-other-${priority}`,
          index_patterns: [`${prefix}-*`],
          priority,
          template: { settings: { number_of_shards: 3 } },
        });
      }
      const s = createElasticsearchMetricsStore({ client: es.client, indexPrefix: prefix, now: () => NOW });
      assert.deepEqual(await s.record(samples(20)), { accepted: 20, rejected: 0 });
      const created = await es.admin.indices.get({ index: `${prefix}-requests-*` });
      const mappings = Object.values(created)[0].mappings as { properties?: Record<string, { type: string }> };
      assert.equal(mappings.properties?.durationMs?.type, 'float', 'our template applies to our indices');
      assert.equal((await s.query('shop', { windowMs: 60_000 })).requests, 20);
    });
  });
