import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, errors } from '@elastic/elasticsearch';
import { startElasticsearchDouble, type ElasticsearchDouble } from '../doubles/elasticsearch.ts';
import { adminClient } from './elasticsearch-targets.ts';

/** The double's own fidelity: the behaviours the adapters are tested against, checked against what ES answers. */
const reasonOf = (err: unknown) => (err as errors.ResponseError).body as { error: { type: string; reason: string; caused_by?: { reason: string } } };
const vnd = (v: number) => `application/vnd.elasticsearch+json; compatible-with=${v}`;

describe('Elasticsearch double: REST API compatibility', () => {
  const doubles: ElasticsearchDouble[] = [];
  after(async () => {
    for (const d of doubles) await d.stop();
  });
  const start = async (major: 8 | 9) => {
    const d = await startElasticsearchDouble({ major });
    doubles.push(d);
    return d;
  };

  it('ES 8 refuses the 9.x client’s compatible-with=9 on every call, with the text ES 8 sends', async () => {
    const es = await start(8);
    const client = new Client({ node: es.url });
    try {
      await assert.rejects(client.info(), (err: unknown) => {
        const body = reasonOf(err);
        assert.equal((err as errors.ResponseError).meta.statusCode, 400);
        assert.equal(body.error.type, 'media_type_header_exception');
        assert.equal(body.error.reason, 'Invalid media-type value on headers [Accept, Content-Type]');
        assert.match(
          body.error.caused_by!.reason,
          /^Accept version must be either version 8 or 7, but found 9\. Accept=application\/vnd\.elasticsearch\+json; compatible-with=9/,
        );
        return true;
      });
      await assert.rejects(client.search({ index: 'x', ignore_unavailable: true }), { name: 'ResponseError' });
    } finally {
      await client.close();
    }
  });

  it('ES 8 accepts 7 and 8, ES 9 accepts 8 and 9; both accept unversioned JSON and report their major', async () => {
    for (const [major, ok, refused] of [
      [8, [7, 8], [9]],
      [9, [8, 9], [7]],
    ] as const) {
      const es = await start(major);
      const client = new Client({ node: es.url });
      try {
        for (const v of ok) {
          const info = await client.info(undefined, { headers: { accept: vnd(v), 'content-type': vnd(v) } });
          assert.equal(info.version.number.split('.')[0], String(major));
        }
        for (const v of refused) await assert.rejects(client.info(undefined, { headers: { accept: vnd(v) } }), /media_type_header_exception/);
        const plain = await client.info(undefined, { headers: { accept: 'application/json', 'content-type': 'application/json' } });
        assert.equal(plain.version.number.split('.')[0], String(major));
        // With a body, Accept and Content-Type must name the same version.
        await assert.rejects(
          client.search(
            { index: 'x', ignore_unavailable: true, query: { match_all: {} } },
            { headers: { accept: vnd(major), 'content-type': 'application/json' } },
          ),
          (err: unknown) => /if either one has requested a compatible version/.test(reasonOf(err).error.caused_by!.reason),
        );
      } finally {
        await client.close();
      }
    }
  });
});

describe('Elasticsearch double: refresh, shards, templates', () => {
  let es: ElasticsearchDouble;
  let client: Client;
  before(async () => {
    es = await startElasticsearchDouble({ refreshIntervalMs: 10 });
    client = adminClient(es.url);
  });
  after(async () => {
    await client.close();
    await es.stop();
  });

  it('honours an index refresh_interval: writes are searchable only after a refresh', async () => {
    await client.indices.create({ index: 'slow', settings: { refresh_interval: '-1' } });
    await client.index({ index: 'slow', document: { a: 1 } });
    await client.index({ index: 'fast', document: { a: 1 } });
    const hits = async (index: string) => (await client.search({ index })).hits.hits.length;
    // `fast` follows the default (10 ms); `slow` only refreshes on demand.
    for (let i = 0; i < 3 && (await hits('fast')) === 0; i++) await client.indices.refresh({ index: 'fast' });
    assert.equal(await hits('slow'), 0);
    await client.indices.refresh({ index: 'slow' });
    assert.equal(await hits('slow'), 1);
  });

  it('answers partial results with _shards.failed, and sorting on an unmapped field fails that shard unless unmapped_type', async () => {
    await client.index({ index: 'p-1', document: { t: 1 }, refresh: true });
    await client.indices.create({ index: 'p-2' });
    const unmapped = await client.search({ index: 'p-*', sort: [{ t: { order: 'asc' } }] });
    assert.deepEqual([unmapped._shards.total, unmapped._shards.failed, unmapped.hits.hits.length], [2, 1, 1]);
    assert.match(unmapped._shards.failures![0].reason.reason!, /No mapping found for \[t\] in order to sort on/);
    const ok = await client.search({ index: 'p-*', sort: [{ t: { order: 'asc', unmapped_type: 'long' } }] });
    assert.equal(ok._shards.failed, 0);
    es.failShards({ index: 'p-1', timedOut: true });
    const timedOut = await client.search({ index: 'p-*', sort: [{ t: { order: 'asc', unmapped_type: 'long' } }] });
    assert.deepEqual([timedOut.timed_out, timedOut.hits.hits.length], [true, 0]);
    es.failShards({ index: 'p-*' });
    // "all shards failed", with each shard's own cause as a root cause (what the client's message lists).
    await assert.rejects(client.search({ index: 'p-*' }), (err: unknown) => {
      const body = reasonOf(err).error as { type: string; reason: string; root_cause: Array<{ type: string; reason: string }> };
      assert.deepEqual([body.type, body.reason], ['search_phase_execution_exception', 'all shards failed']);
      assert.deepEqual(
        body.root_cause.map((c) => c.type),
        ['es_rejected_execution_exception', 'es_rejected_execution_exception'],
      );
      assert.match(body.root_cause[0].reason, /rejected execution of search on \[p-1\]/);
      return true;
    });
  });

  it('refuses an overlapping template of the same priority, like MetadataIndexTemplateService', async () => {
    await client.indices.putIndexTemplate({ name: 'a', index_patterns: ['veer-*'], priority: 7 });
    await assert.rejects(client.indices.putIndexTemplate({ name: 'b', index_patterns: ['*-events-*'], priority: 7 }), (err: unknown) => {
      assert.equal(reasonOf(err).error.type, 'illegal_argument_exception');
      assert.match(
        reasonOf(err).error.reason,
        /index template \[b\] has index patterns \[\*-events-\*\] matching patterns from existing templates \[a\].*same priority \[7\]/,
      );
      return true;
    });
    await client.indices.putIndexTemplate({ name: 'b', index_patterns: ['*-events-*'], priority: 8 });
    await client.indices.putIndexTemplate({ name: 'c', index_patterns: ['other-*'], priority: 7 });
  });
});
