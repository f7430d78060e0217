import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../../engine/shared/logger.ts';
import { parseLogLine, type GatewayLogRecord } from './log-line.ts';

export interface LogReceiverOptions {
  /** UDP port on 127.0.0.1; 0 picks a free one (see `port` after start). */
  port: number;
  logger: Logger;
  /** Receives parsed records in batches; a failing callback loses that batch only. */
  onLogRecords: (records: GatewayLogRecord[]) => void | Promise<void>;
  /** Flush at least this often (ms) and whenever this many records are waiting. */
  flushMs?: number;
  maxBatch?: number;
}

export interface LogReceiver {
  start(): Promise<number>;
  readonly port: number;
  readonly received: number;
  stop(): Promise<void>;
}

/** Receives HAProxy's JSON log datagrams (udp4, loopback only) and hands them on in batches. */
export function createLogReceiver(options: LogReceiverOptions): LogReceiver {
  const log = options.logger.child({ component: 'gateway-logs' });
  const flushMs = options.flushMs ?? 200;
  const maxBatch = options.maxBatch ?? 500;
  let socket: Socket | undefined;
  let port = options.port;
  let received = 0;
  let batch: GatewayLogRecord[] = [];
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    const records = batch;
    batch = [];
    Promise.resolve()
      .then(() => options.onLogRecords(records))
      .catch((err) => log.warn({ err, records: records.length }, 'log consumer failed; batch dropped'));
  };

  return {
    get port() {
      return port;
    },
    get received() {
      return received;
    },
    start: () =>
      new Promise<number>((resolve, reject) => {
        // A big receive buffer absorbs bursts (the kernel caps it at net.core.rmem_max).
        const s = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
        s.once('error', reject);
        s.on('message', (msg) => {
          const record = parseLogLine(msg.toString('utf8'));
          if (!record) return;
          received++;
          batch.push(record);
          if (batch.length >= maxBatch) flush();
          else timer ??= setTimeout(flush, flushMs);
        });
        s.bind(options.port, '127.0.0.1', () => {
          s.off('error', reject);
          s.on('error', (err) => log.warn({ err }, 'log socket error'));
          socket = s;
          port = s.address().port;
          resolve(port);
        });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        flush();
        if (!socket) return resolve();
        socket.close(() => resolve());
        socket = undefined;
      }),
  };
}
