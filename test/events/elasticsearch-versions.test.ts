import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createElasticsearchDocumentSearch, createElasticsearchEventStore } from '../../adapters/events/elasticsearch.ts';
import { createElasticsearchMetricsStore } from '../../adapters/metrics/elasticsearch.ts';
import { normalizeEvent } from '../../engine/domain/event.ts';
import { startHttpDouble, type HttpDouble } from '../doubles/http-double.ts';
import { startElasticsearchDouble, type ElasticsearchDouble } from '../doubles/elasticsearch.ts';

/** Start-up against each Elasticsearch major: supported ones are spoken to in their own media types, others refused by name. */
describe('Elasticsearch versions', () => {
  const servers: Array<HttpDouble | ElasticsearchDouble> = [];
  after(async () => {
    for (const s of servers) await ('close' in s ? s.close() : s.stop());
  });

  /** Just enough of GET / for the version check; anything else would be a bug. */
  const serverReporting = async (number: string) => {
    const d = await startHttpDouble((req) =>
      req.path === '/'
        ? { status: 200, headers: { 'x-elastic-product': 'Elasticsearch' }, body: { name: 'old', version: { number }, tagline: 'You Know, for Search' } }
        : { status: 500, headers: { 'x-elastic-product': 'Elasticsearch' }, body: { error: `unexpected ${req.method} ${req.path}` } },
    );
    servers.push(d);
    return d;
  };

  for (const number of ['7.17.22', '10.0.0']) {
    it(`refuses Elasticsearch ${number} with a CONFIG error naming the version, before any other call`, async () => {
      const d = await serverReporting(number);
      const events = createElasticsearchEventStore({ url: d.url });
      const metrics = createElasticsearchMetricsStore({ url: d.url });
      const search = createElasticsearchDocumentSearch({ url: d.url });
      const expected = (err: unknown) => {
        assert.equal((err as { code: string }).code, 'CONFIG');
        assert.match((err as Error).message, new RegExp(`Elasticsearch ${number.replace(/\./g, '\\.')}; supported versions are Elasticsearch 8\\.x and 9\\.x`));
        return true;
      };
      try {
        await assert.rejects(events.append(normalizeEvent({ tags: ['x'] })), expected);
        await assert.rejects(metrics.query('g', { windowMs: 60_000 }), expected);
        await assert.rejects(search.search({ index: 'x', query: { match_all: {} }, timestampField: 't', from: 0, to: 1, size: 1 }), expected);
        assert.deepEqual([...new Set(d.requests.map((r) => `${r.method} ${r.path}`))], ['GET /']);
      } finally {
        await Promise.all([events.close(), metrics.close(), search.close()]);
      }
    });
  }

  for (const major of [8, 9] as const) {
    it(`speaks compatible-with=${major} to Elasticsearch ${major}, after one unversioned GET /`, async () => {
      const es = await startElasticsearchDouble({ major });
      servers.push(es);
      const events = createElasticsearchEventStore({ url: es.url, indexPrefix: 'v' });
      const metrics = createElasticsearchMetricsStore({ url: es.url, indexPrefix: 'v' });
      try {
        await events.append(normalizeEvent({ tags: ['x'] }));
        await metrics.record([{ time: Date.now(), gateway: 'g', route: 'r', server: 's', status: 200, durationMs: 1, bytes: 1 }]);
        await metrics.query('g', { windowMs: 60_000 });
        // One version check per client (each store here owns one), unversioned; everything else pinned to the major.
        const checks = es.requests.filter((r) => r.path === '/');
        const rest = es.requests.filter((r) => r.path !== '/');
        assert.deepEqual(
          checks.map((r) => [r.method, r.accept]),
          [
            ['GET', 'application/json'],
            ['GET', 'application/json'],
          ],
        );
        assert.ok(rest.length >= 4);
        for (const r of rest) assert.match(r.accept ?? '', new RegExp(`compatible-with=${major}$`), `${r.method} ${r.path}`);
        assert.ok(rest.some((r) => r.path === '/_bulk' && r.contentType === `application/vnd.elasticsearch+x-ndjson; compatible-with=${major}`));
      } finally {
        await Promise.all([events.close(), metrics.close()]);
      }
    });
  }
});
