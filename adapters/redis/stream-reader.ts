import type { Redis } from 'ioredis';

/** One stream entry as Redis returns it: id and flat field/value list. */
export type StreamEntry = [id: string, fields: string[]];

export interface StreamReadOptions {
  /** Makes the reader's own connection (XREAD BLOCK holds it); the reader disconnects it at the end. */
  connect: () => Redis;
  key: string;
  /** Exclusive start id (or a promise of it, read before the first XREAD). */
  from: string | Promise<string>;
  /** Entries per XREAD at most. */
  count: number;
  /** How long one XREAD blocks (ms). */
  blockMs: number;
  /** Ends the iteration quietly: the connection is dropped, which also ends a pending XREAD. */
  signal: AbortSignal;
  /** Also yield an empty batch whenever a block passes without entries (callers that re-check state). */
  yieldEmpty?: boolean;
  /** Fails an XREAD that has not answered within blockMs + this (a silently dead connection). */
  timeoutMs?: number;
}

/**
 * The one blocking stream reader: the event store's tail, run-log followers and KV watches
 * all read through it. Yields batches of entries in order, resuming after the last id it
 * yielded. Errors from Redis end the iteration with a throw (callers translate them); an
 * abort ends it quietly.
 */
export async function* readStream(o: StreamReadOptions): AsyncGenerator<StreamEntry[]> {
  if (o.signal.aborted) return;
  let from = await o.from;
  if (o.signal.aborted) return;
  const conn = o.connect();
  conn.on('error', () => {});
  const onAbort = () => conn.disconnect();
  o.signal.addEventListener('abort', onAbort, { once: true });
  try {
    while (!o.signal.aborted) {
      let res: Array<[string, StreamEntry[]]> | null;
      try {
        const read = conn.xread('COUNT', o.count, 'BLOCK', o.blockMs, 'STREAMS', o.key, from) as Promise<typeof res>;
        res = o.timeoutMs === undefined ? await read : await withDeadline(read, o.blockMs + o.timeoutMs);
      } catch (err) {
        if (o.signal.aborted) return;
        throw err;
      }
      const entries = res?.[0]?.[1] ?? [];
      if (entries.length === 0) {
        if (o.yieldEmpty) yield [];
        continue;
      }
      from = entries[entries.length - 1][0];
      yield entries;
    }
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    conn.disconnect();
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`no answer within ${ms} ms`);
      (err as { code?: string }).code = 'ETIMEDOUT';
      reject(err);
    }, ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
