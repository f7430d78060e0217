import type { GatewayRequestSample } from '../metrics/port.ts';
import type { GatewayLogRecord } from './log-line.ts';

/** A traffic log record as the gateway metrics store takes it (`metrics.record(records.map(toRequestSample))`). */
export function toRequestSample(r: GatewayLogRecord): GatewayRequestSample {
  return {
    time: r.timestamp,
    gateway: r.gateway,
    route: r.route ?? '',
    server: r.instance ?? '',
    status: r.status ?? 0,
    durationMs: r.timings.total,
    bytes: r.bytesOut,
  };
}
