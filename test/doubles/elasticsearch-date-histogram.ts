import { EsError, ShardLevelError, type AggContext, type Doc } from './elasticsearch-model.ts';
import { comparable, values } from './elasticsearch-query.ts';

/*
 * `date_histogram` in the protocol double (elasticsearch-search.ts), the part the metrics
 * store's series use: `field` (a `date`), `fixed_interval`, `min_doc_count`, `extended_bounds`,
 * sub-aggregations per bucket. Other parameters are refused as not implemented, so a caller
 * cannot rely on something the double would answer wrongly.
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/search-aggregations-bucket-datehistogram-aggregation.html
 *
 * - `fixed_interval` is parsed like TimeValue.parseTimeValue: units nanos, micros, ms, s, m
 *   (case-sensitive: `M` is months), h, d; calendar units (`1w`, `1M`, `1q`, `1y`) and missing
 *   units are a 400 `x_content_parse_exception` "failed to parse field [fixed_interval]" caused
 *   by `illegal_argument_exception` (the reference page shows this answer for `2w`).
 *   https://github.com/elastic/elasticsearch/blob/main/libs/core/src/main/java/org/elasticsearch/core/TimeValue.java
 *   https://github.com/elastic/elasticsearch/blob/main/server/src/main/java/org/elasticsearch/search/aggregations/bucket/histogram/DateIntervalWrapper.java
 *   `interval` (removed in 8.0, parsed only in REST API v7 compatibility) is an unknown field.
 * - No interval, a zero one (`Zero or negative time interval not supported`, Rounding) and
 *   extended bounds with min > max fail when the shard builds the aggregator
 *   (DateIntervalWrapper.createRounding, LongBounds.parseAndValidate): every shard fails.
 * - Buckets: key = the value rounded down to a multiple of the interval since the epoch (UTC,
 *   no offset), sorted by key ascending; `key_as_string` in the field's (first) mapping format.
 *   With `min_doc_count: 0` (the default) every bucket from the first to the last is returned,
 *   extended to `extended_bounds` (rounded the same way; they add buckets, never filter any).
 *   https://www.elastic.co/guide/en/elasticsearch/reference/current/search-aggregations-bucket-histogram-aggregation.html#search-aggregations-bucket-histogram-aggregation-extended-bounds
 * - `search.max_buckets` (65,536) bounds the buckets of the whole response: `too_many_buckets_exception`.
 *   https://www.elastic.co/guide/en/elasticsearch/reference/current/search-settings.html#search-settings-max-buckets
 */

export type Aggs = Record<string, Record<string, unknown>>;
export type Aggregate = (docs: Doc[], aggs: Aggs | undefined, ctx: AggContext) => Record<string, unknown>;

export const MAX_BUCKETS = 65_536;

const KNOWN = new Set(['field', 'fixed_interval', 'min_doc_count', 'extended_bounds']);
// Fields DateHistogramAggregationBuilder's parser knows that the double does not implement.
const NOT_IMPLEMENTED = new Set(['calendar_interval', 'time_zone', 'offset', 'format', 'keyed', 'order', 'hard_bounds', 'missing', 'script', 'value_type']);

const iae = (reason: string) => ({ type: 'illegal_argument_exception', reason });
const failedField = (field: string, cause: { type: string; reason: string }) =>
  new EsError(400, 'x_content_parse_exception', `[date_histogram] failed to parse field [${field}]`, cause);
const tokenType = (v: unknown) =>
  typeof v === 'number'
    ? 'VALUE_NUMBER'
    : typeof v === 'boolean'
      ? 'VALUE_BOOLEAN'
      : v === null
        ? 'VALUE_NULL'
        : Array.isArray(v)
          ? 'START_ARRAY'
          : 'START_OBJECT';

/** `fixed_interval` in ms (truncated like TimeValue.millis()), or the parse error ES answers. */
function fixedIntervalMs(v: unknown): number {
  if (typeof v !== 'string')
    throw new EsError(400, 'x_content_parse_exception', `[date_histogram] fixed_interval doesn't support values of type: ${tokenType(v)}`);
  const setting = 'date_histogram.fixedInterval';
  if (v === '') throw failedField('fixed_interval', iae('[interval] must not be null: [date_histogram]'));
  const normalized = v.toLowerCase().trim();
  const units: Array<[string, number]> = [
    ['nanos', 1e-6],
    ['micros', 1e-3],
    ['ms', 1],
    ['s', 1000],
    ['m', 60_000],
    ['h', 3_600_000],
    ['d', 86_400_000],
  ];
  // Minutes are matched on the value as given: `1M` (months) is no fixed interval.
  const unit = units.find(([suffix]) => (suffix === 'm' ? v.endsWith('m') : normalized.endsWith(suffix)));
  if (!unit) {
    if (/^-0*1$/.test(normalized)) return -1;
    if (/^0+$/.test(normalized)) return 0;
    throw failedField('fixed_interval', iae(`failed to parse setting [${setting}] with value [${v}] as a time value: unit is missing or unrecognized`));
  }
  const num = normalized.slice(0, -unit[0].length).trim();
  if (!/^[+-]?\d+$/.test(num)) {
    const fractional = num !== '' && Number.isFinite(Number(num));
    throw failedField('fixed_interval', iae(fractional ? `failed to parse [${v}], fractional time values are not supported` : `failed to parse [${v}]`));
  }
  const n = Number(num);
  if (n < -1)
    throw failedField('fixed_interval', iae(`failed to parse setting [${setting}] with value [${v}] as a time value: negative durations are not supported`));
  return Math.trunc(n * unit[1]);
}

function minDocCount(v: unknown, name: string): number {
  if (v === undefined) return 0;
  const n = typeof v === 'number' || typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw failedField('min_doc_count', { type: 'number_format_exception', reason: `For input string: "${String(v)}"` });
  if (n < 0) throw failedField('min_doc_count', iae(`[minDocCount] must be greater than or equal to 0. Found [${n}] in [${name}]`));
  return n;
}

/** `extended_bounds` as given (numbers are epoch ms; strings are resolved by the shard, below). */
function extendedBounds(v: unknown): { min?: number | string; max?: number | string } | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new EsError(400, 'x_content_parse_exception', `[date_histogram] extended_bounds doesn't support values of type: ${tokenType(v)}`);
  const out: { min?: number | string; max?: number | string } = {};
  for (const [k, b] of Object.entries(v as Record<string, unknown>)) {
    if (k !== 'min' && k !== 'max')
      throw failedField('extended_bounds', { type: 'x_content_parse_exception', reason: `[extended_bounds] unknown field [${k}]` });
    if (typeof b !== 'number' && typeof b !== 'string')
      throw failedField('extended_bounds', {
        type: 'x_content_parse_exception',
        reason: `[extended_bounds] ${k} doesn't support values of type: ${tokenType(b)}`,
      });
    out[k] = typeof b === 'number' ? Math.trunc(b) : b;
  }
  return out;
}

/** A bound on the shard: epoch ms, or a date string / date math the double understands (ISO, `now-…`, digits). */
function boundMs(v: number | string | undefined, field: string): number | undefined {
  if (v === undefined || typeof v === 'number') return v;
  const ms = comparable(v);
  if (typeof ms !== 'number')
    throw new ShardLevelError(400, 'parse_exception', `failed to parse date field [${v}] for [${field}] (double: ISO, now-… and epoch ms only)`);
  return ms;
}

/** How `key_as_string` prints a key: the field's first mapping format (default strict_date_optional_time). */
function keyFormatter(format: string | undefined): (key: number) => string {
  const first = (format ?? 'strict_date_optional_time').split('||')[0];
  if (first === 'epoch_millis') return (key) => String(key);
  if (first === 'strict_date_optional_time' || first === 'date_optional_time') return (key) => new Date(key).toISOString();
  throw new EsError(400, 'illegal_argument_exception', `date format [${first}] for key_as_string is not implemented by the double`);
}

/** The `date_histogram` aggregation `name` over `docs`; `aggregate` runs the sub-aggregations `sub` per bucket. */
export function dateHistogram(name: string, docs: Doc[], body: Record<string, unknown>, sub: Aggs | undefined, ctx: AggContext, aggregate: Aggregate) {
  // Parsed before any shard runs: these errors come back even when no index matches.
  for (const k of Object.keys(body)) {
    if (NOT_IMPLEMENTED.has(k)) throw new EsError(400, 'illegal_argument_exception', `[date_histogram] [${k}] is not implemented by the double`);
    if (!KNOWN.has(k)) throw new EsError(400, 'x_content_parse_exception', `[date_histogram] unknown field [${k}]`);
  }
  const interval = body.fixed_interval === undefined ? undefined : fixedIntervalMs(body.fixed_interval);
  const minCount = minDocCount(body.min_doc_count, name);
  const bounds = extendedBounds(body.extended_bounds);
  if (typeof body.field !== 'string')
    throw new EsError(400, 'illegal_argument_exception', '[date_histogram] without a [field] is not implemented by the double');
  const field = body.field;

  // What the shard meets building the aggregator.
  if (interval === undefined) throw new ShardLevelError(400, 'illegal_argument_exception', 'Invalid interval specified, must be non-null and non-empty');
  if (interval < 1) throw new ShardLevelError(400, 'illegal_argument_exception', 'Zero or negative time interval not supported');
  const mapping = ctx.mapping(field);
  if (mapping?.type !== undefined && mapping.type !== 'date') {
    if (mapping.type === 'date_nanos' || /^(long|integer|short|byte|double|float|half_float|scaled_float|unsigned_long)$/.test(mapping.type))
      throw new EsError(400, 'illegal_argument_exception', `date_histogram on a [${mapping.type}] field is not implemented by the double`);
    throw new ShardLevelError(
      400,
      'illegal_argument_exception',
      `Field [${field}] of type [${mapping.type}] is not supported for aggregation [date_histogram]`,
    );
  }
  const min = boundMs(bounds?.min, field);
  const max = boundMs(bounds?.max, field);
  if (min !== undefined && max !== undefined && min > max)
    throw new ShardLevelError(
      400,
      'illegal_argument_exception',
      `[extended_bounds.min][${min}] cannot be greater than [extended_bounds.max][${max}] for histogram aggregation [${name}]`,
    );
  const keyAsString = keyFormatter(mapping?.format);

  const round = (t: number) => Math.floor(t / interval) * interval;
  const groups = new Map<number, Doc[]>();
  for (const d of docs) {
    // A document with several values is in each of their buckets once.
    const keys = new Set(
      values(d, field)
        .map((v) => comparable(v))
        .filter((t): t is number => typeof t === 'number')
        .map(round),
    );
    for (const k of keys) {
      const g = groups.get(k);
      if (g) g.push(d);
      else groups.set(k, [d]);
    }
  }
  let keys = [...groups.keys()].sort((a, b) => a - b);
  if (minCount === 0) {
    let lo = keys[0];
    let hi = keys.at(-1);
    if (min !== undefined) lo = Math.min(lo ?? round(min), round(min));
    if (max !== undefined) hi = Math.max(hi ?? round(max), round(max));
    // With neither documents nor both bounds there is no range to fill.
    if (lo === undefined || hi === undefined) keys = [];
    else {
      if (ctx.buckets.count + (hi - lo) / interval + 1 > MAX_BUCKETS) throw tooManyBuckets();
      keys = Array.from({ length: (hi - lo) / interval + 1 }, (_, i) => lo + i * interval);
    }
  } else keys = keys.filter((k) => groups.get(k)!.length >= minCount);
  ctx.buckets.count += keys.length;
  if (ctx.buckets.count > MAX_BUCKETS) throw tooManyBuckets();
  // The whole request is parsed first: sub-aggregations are checked even without a bucket to run in.
  if (keys.length === 0) aggregate([], sub, ctx);
  return {
    buckets: keys.map((key) => {
      const ds = groups.get(key) ?? [];
      return { key_as_string: keyAsString(key), key, doc_count: ds.length, ...aggregate(ds, sub, ctx) };
    }),
  };
}

/** MultiBucketConsumerService's answer past `search.max_buckets`. */
export const tooManyBuckets = () =>
  new ShardLevelError(
    400,
    'too_many_buckets_exception',
    `Trying to create too many buckets. Must be less than or equal to: [${MAX_BUCKETS}] but this number of buckets was exceeded. This limit can be set by changing the [search.max_buckets] cluster level setting.`,
  );
