/**
 * A fixed log-scale latency histogram: 16 buckets per doubling, so a percentile read
 * from merged buckets is within ±4.5 % (2^(1/16) − 1) of the exact value. Fixed bucket
 * boundaries are what let per-second histograms be summed into any window.
 * Bucket 0 holds [0, 1) ms; bucket i ≥ 1 holds [2^((i−1)/16), 2^(i/16)) ms.
 */
export const SUB_BUCKETS = 16;
export const MAX_BUCKET = 16 * 26; // 2^26 ms ≈ 18.6 h; slower requests share the last bucket
export const RELATIVE_PRECISION = 2 ** (1 / SUB_BUCKETS) - 1;

export function bucketOf(ms: number): number {
  if (!(ms >= 1)) return 0;
  return Math.min(MAX_BUCKET, 1 + Math.floor(Math.log2(ms) * SUB_BUCKETS));
}

export function bucketBounds(i: number): [number, number] {
  if (i === 0) return [0, 1];
  return [2 ** ((i - 1) / SUB_BUCKETS), 2 ** (i / SUB_BUCKETS)];
}

/**
 * The p-th percentile (0..100) of the histogram `counts` (bucket → count), interpolating
 * linearly inside the bucket the rank falls in. Null for an empty histogram.
 */
export function percentile(counts: Map<number, number>, total: number, p: number): number | null {
  if (total <= 0) return null;
  const rank = (p / 100) * total;
  let cum = 0;
  const buckets = [...counts.keys()].sort((a, b) => a - b);
  for (const b of buckets) {
    const c = counts.get(b) ?? 0;
    if (c <= 0) continue;
    if (cum + c >= rank) {
      const [lo, hi] = bucketBounds(b);
      return lo + ((rank - cum) / c) * (hi - lo);
    }
    cum += c;
  }
  const last = buckets[buckets.length - 1];
  return bucketBounds(last)[1];
}
