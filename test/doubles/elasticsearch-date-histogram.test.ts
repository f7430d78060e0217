import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startElasticsearchDouble, type ElasticsearchDouble } from './elasticsearch.ts';

/*
 * The protocol double's `date_histogram` (elasticsearch-date-histogram.ts), checked over HTTP
 * against the behaviour Elasticsearch 8/9 documents. This tests the DOUBLE against documented
 * ES behaviour, not a real server (none can run here). The references the double follows:
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/search-aggregations-bucket-datehistogram-aggregation.html
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/search-aggregations-bucket-histogram-aggregation.html#search-aggregations-bucket-histogram-aggregation-extended-bounds
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/search-settings.html#search-settings-max-buckets
 * https://github.com/elastic/elasticsearch/blob/main/libs/core/src/main/java/org/elasticsearch/core/TimeValue.java
 * https://github.com/elastic/elasticsearch/blob/main/server/src/main/java/org/elasticsearch/search/aggregations/bucket/histogram/DateIntervalWrapper.java
 */

// Epoch ms of the documents in `m`: 25 s, 31 s, 31.5 s and 55 s after the epoch.
const TIMES = [25_000, 31_000, 31_500, 55_000];

for (const major of [8, 9] as const) {
  describe(`Elasticsearch ${major} double: date_histogram`, () => {
    let es: ElasticsearchDouble;
    before(async () => {
      es = await startElasticsearchDouble({ major, refreshIntervalMs: -1 });
      // `m` prints dates as epoch ms (its first format); `iso` keeps the default format.
      await call('PUT', '/m', { mappings: { properties: { t: { type: 'date', format: 'epoch_millis||strict_date_optional_time' }, k: { type: 'keyword' } } } });
      await call('PUT', '/iso', { mappings: { properties: { t: { type: 'date' } } } });
      for (const [i, t] of TIMES.entries()) await call('PUT', `/m/_doc/${i}?refresh=true`, { t, k: 'a' });
      await call('PUT', '/iso/_doc/1?refresh=true', { t: 61_000 });
    });
    after(async () => {
      await es?.stop();
    });

    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${es.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const histogram = (dh: Record<string, unknown>, opts: { index?: string; sub?: unknown; query?: unknown } = {}) =>
      call('POST', `/${opts.index ?? 'm'}/_search`, {
        size: 0,
        ...(opts.query ? { query: opts.query } : {}),
        aggs: { h: { date_histogram: dh, ...(opts.sub ? { aggs: opts.sub } : {}) } },
      });
    const buckets = (res: { body: any }) =>
      res.body.aggregations.h.buckets as Array<{ key: number; key_as_string: string; doc_count: number } & Record<string, any>>;

    /** ES's answer when every shard fails building the aggregator: 400 "all shards failed", the shard's error as the cause. */
    const assertAllShardsFailed = (res: { status: number; body: any }, reason: string) => {
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.type, 'search_phase_execution_exception');
      assert.equal(res.body.error.reason, 'all shards failed');
      assert.deepEqual(res.body.error.caused_by, { type: 'illegal_argument_exception', reason });
      assert.ok(res.body.error.failed_shards.length > 0);
      for (const f of res.body.error.failed_shards) assert.deepEqual(f.reason, { type: 'illegal_argument_exception', reason });
    };
    /** ES's answer to a `fixed_interval` TimeValue cannot parse: a 400 parse error of the field, caused by the TimeValue's complaint. */
    const assertBadFixedInterval = (res: { status: number; body: any }, cause: string) => {
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.type, 'x_content_parse_exception');
      // Real ES prefixes the reason with the `[line:column]` of the field; the rest is fixed.
      assert.match(res.body.error.reason, /\[date_histogram\] failed to parse field \[fixed_interval\]$/);
      assert.deepEqual(res.body.error.caused_by, { type: 'illegal_argument_exception', reason: cause });
    };

    it("a chart's points land on whole intervals since the epoch, oldest first, each with its count and its own sub-aggregations", async () => {
      const res = await histogram({ field: 't', fixed_interval: '10s' }, { sub: { n: { value_count: { field: 't' } } } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const got = buckets(res);
      for (const b of got) assert.equal(b.key % 10_000, 0, `key ${b.key} is a multiple of 10 s`);
      // min_doc_count defaults to 0: the empty 40 s bucket between two data points is there too.
      assert.deepEqual(
        got.map((b) => [b.key, b.key_as_string, b.doc_count, b.n.value]),
        [
          [20_000, '20000', 1, 1],
          [30_000, '30000', 2, 2],
          [40_000, '40000', 0, 0],
          [50_000, '50000', 1, 1],
        ],
      );
    });

    it("a bucket's label is printed in the date field's own format (ISO-8601 by default)", async () => {
      const res = await histogram({ field: 't', fixed_interval: '1m' }, { index: 'iso' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(buckets(res), [{ key: 60_000, key_as_string: '1970-01-01T00:01:00.000Z', doc_count: 1 }]);
    });

    it("a chart's empty seconds come back as zero buckets across the whole extended_bounds window", async () => {
      // The bounds are rounded down to the interval like keys are: 79,999 ends in the 70 s bucket.
      const res = await histogram({ field: 't', fixed_interval: '10s', min_doc_count: 0, extended_bounds: { min: 0, max: 79_999 } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(
        buckets(res).map((b) => [b.key, b.doc_count]),
        [
          [0, 0],
          [10_000, 0],
          [20_000, 1],
          [30_000, 2],
          [40_000, 0],
          [50_000, 1],
          [60_000, 0],
          [70_000, 0],
        ],
      );
    });

    it('a window with no data yet still gets its zero buckets when both bounds are given', async () => {
      const res = await histogram(
        { field: 't', fixed_interval: '10s', min_doc_count: 0, extended_bounds: { min: 100_000, max: 120_000 } },
        { query: { term: { k: 'nothing' } } },
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(
        buckets(res).map((b) => [b.key, b.doc_count]),
        [
          [100_000, 0],
          [110_000, 0],
          [120_000, 0],
        ],
      );
    });

    it('min_doc_count 1 leaves out the intervals nothing happened in', async () => {
      const res = await histogram({ field: 't', fixed_interval: '10s', min_doc_count: 1, extended_bounds: { min: 0, max: 79_999 } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(
        buckets(res).map((b) => [b.key, b.doc_count]),
        [
          [20_000, 1],
          [30_000, 2],
          [50_000, 1],
        ],
      );
    });

    it('a calendar unit or a bare number in fixed_interval is refused as unparsable, before any shard runs', async () => {
      for (const v of ['1w', '2w', '1M', '1q', '1y', '10']) {
        const cause = `failed to parse setting [date_histogram.fixedInterval] with value [${v}] as a time value: unit is missing or unrecognized`;
        assertBadFixedInterval(await histogram({ field: 't', fixed_interval: v }), cause);
        // A parse error of the request body comes back even when no index matches.
        assertBadFixedInterval(await histogram({ field: 't', fixed_interval: v }, { index: 'nope*' }), cause);
      }
    });

    it('a fractional fixed_interval such as 1.5h is refused: TimeValue takes whole numbers only', async () => {
      assertBadFixedInterval(await histogram({ field: 't', fixed_interval: '1.5h' }), 'failed to parse [1.5h], fractional time values are not supported');
    });

    it('the pre-8.0 `interval` field is refused as unknown, not silently read as a fixed interval', async () => {
      const res = await histogram({ field: 't', interval: '1m' });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.type, 'x_content_parse_exception');
      assert.match(res.body.error.reason, /\[date_histogram\] unknown field \[interval\]$/);
    });

    it('a histogram without an interval fails every shard that builds it', async () => {
      assertAllShardsFailed(await histogram({ field: 't' }), 'Invalid interval specified, must be non-null and non-empty');
    });

    it('a histogram over a keyword field fails every shard: only date fields have time buckets', async () => {
      assertAllShardsFailed(
        await histogram({ field: 'k', fixed_interval: '1s' }),
        'Field [k] of type [keyword] is not supported for aggregation [date_histogram]',
      );
    });

    it('a window whose start is after its end fails every shard', async () => {
      assertAllShardsFailed(
        await histogram({ field: 't', fixed_interval: '1s', extended_bounds: { min: 10, max: 0 } }),
        '[extended_bounds.min][10] cannot be greater than [extended_bounds.max][0] for histogram aggregation [h]',
      );
    });

    it('a window of more than search.max_buckets (65,536) buckets is refused with too_many_buckets_exception; exactly 65,536 is answered', async () => {
      const atLimit = await histogram({ field: 't', fixed_interval: '1ms', extended_bounds: { min: 0, max: 65_535 } });
      assert.equal(atLimit.status, 200, JSON.stringify(atLimit.body).slice(0, 500));
      assert.equal(buckets(atLimit).length, 65_536);
      const over = await histogram({ field: 't', fixed_interval: '1ms', extended_bounds: { min: 0, max: 65_536 } });
      assert.equal(over.status, 400, JSON.stringify(over.body).slice(0, 500));
      assert.equal(over.body.error.type, 'search_phase_execution_exception');
      assert.equal(over.body.error.caused_by.type, 'too_many_buckets_exception');
      assert.match(
        over.body.error.caused_by.reason,
        /^Trying to create too many buckets\. Must be less than or equal to: \[65536\] but this number of buckets was exceeded\. This limit can be set by changing the \[search\.max_buckets\] cluster level setting\.$/,
      );
    });

    it('a search that matches no index answers without an `aggregations` key, so a reader must not assume one', async () => {
      const res = await histogram({ field: 't', fixed_interval: '1s', min_doc_count: 0, extended_bounds: { min: 0, max: 10_000 } }, { index: 'nope*' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body._shards.total, 0);
      assert.equal(res.body.hits.total.value, 0);
      assert.equal('aggregations' in res.body, false);
    });
  });
}
