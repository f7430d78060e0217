/**
 * `Promise.all(items.map(fn))` with at most `limit` calls in flight: a table of 1,000 workflows
 * asks for 1,000 last runs, which must not open 1,000 connections to the API at once.
 * Results keep the order of `items`; the first rejection rejects the whole.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** In-flight API calls of one command that fans out (per-workflow runs, per-gateway status). */
export const FAN_OUT = 8;
