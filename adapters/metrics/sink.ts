import type { Logger } from '../../engine/shared/logger.ts';
import type { GatewayLogRecord } from '../gateway-agent/log-line.ts';
import type { GatewayMetricsStore, GatewayRequestSample } from '../../engine/ports/metrics-store.ts';

/**
 * The agent's parsed HAProxy line → a sample. Status is 0 for TCP and -1 when the client
 * left before a status (neither is a 5xx); a record whose total time was never reached
 * is skipped.
 */
export function fromGatewayLogRecord(r: GatewayLogRecord): GatewayRequestSample | undefined {
  if (!r.gateway || !(r.timings.total >= 0)) return undefined;
  return {
    time: r.timestamp,
    gateway: r.gateway,
    route: r.route ?? '',
    server: r.instance ?? '',
    status: r.status ?? 0,
    durationMs: r.timings.total,
    bytes: Math.max(0, r.bytesOut),
  };
}

export interface MetricsSinkOptions<R> {
  /** Maps what the agent hands over to a sample; return undefined to skip it. Default: fromGatewayLogRecord. */
  toSample?: (record: R) => GatewayRequestSample | undefined;
  logger?: Logger;
  /** Samples per `record()` call. Default 2000. */
  maxBatch?: number;
  /** Longest a sample waits before being written (ms). Default 1000. */
  flushMs?: number;
  /** Samples buffered at most; beyond, new ones are dropped and counted. Default 100 000. */
  maxQueue?: number;
}

export interface MetricsSinkStats {
  accepted: number;
  written: number;
  /** Dropped because the buffer was full (store slow or down). */
  dropped: number;
  /** Lost in failed writes, or rejected by the store. */
  failed: number;
  queued: number;
}

/** The callback the gateway agent calls, plus flush/close/stats for its owner. */
export interface MetricsSink<R> {
  (records: R[]): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): MetricsSinkStats;
}

/**
 * `onLogRecords` for the gateway agent: buffers samples and writes them in batches in
 * the background. It never blocks or throws into the agent; under backpressure it
 * drops (counted in `stats().dropped`) rather than grow without bound.
 */
export function createMetricsSink<R = GatewayLogRecord>(store: GatewayMetricsStore, options: MetricsSinkOptions<R> = {}): MetricsSink<R> {
  const toSample = options.toSample ?? (fromGatewayLogRecord as unknown as (r: R) => GatewayRequestSample | undefined);
  const maxBatch = options.maxBatch ?? 2000;
  const maxQueue = options.maxQueue ?? 100_000;
  const stats: MetricsSinkStats = { accepted: 0, written: 0, dropped: 0, failed: 0, queued: 0 };
  let queue: GatewayRequestSample[] = [];
  let writing: Promise<void> | undefined;
  let lastWarn = 0;
  const timer = setInterval(() => void flush(), options.flushMs ?? 1000);
  timer.unref();

  async function writeAll(): Promise<void> {
    while (queue.length) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      stats.queued = queue.length;
      try {
        const res = await store.record(batch);
        stats.written += res.accepted;
        stats.failed += res.rejected;
      } catch (err) {
        stats.failed += batch.length;
        if (Date.now() - lastWarn > 10_000) {
          lastWarn = Date.now();
          options.logger?.warn({ err, failed: stats.failed }, 'metrics samples lost: the metrics store is failing');
        }
      }
    }
  }

  function flush(): Promise<void> {
    if (!writing) writing = writeAll().finally(() => (writing = undefined));
    return writing;
  }

  const sink = ((records: R[]) => {
    for (const r of records) {
      let s: GatewayRequestSample | undefined;
      try {
        s = toSample(r);
      } catch {
        s = undefined;
      }
      if (!s) continue;
      if (queue.length >= maxQueue) {
        stats.dropped++;
        continue;
      }
      queue.push(s);
      stats.accepted++;
    }
    stats.queued = queue.length;
    if (queue.length >= maxBatch) void flush();
  }) as MetricsSink<R>;
  sink.flush = async () => {
    await flush();
    if (queue.length) await flush();
  };
  sink.close = async () => {
    clearInterval(timer);
    await sink.flush();
  };
  sink.stats = () => ({ ...stats });
  return sink;
}
