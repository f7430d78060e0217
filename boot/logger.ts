import { pino } from 'pino';
import type { Logger } from '../engine/shared/logger.ts';

/** The process's service logger: JSON lines (pino), pretty-printed on request (`VEER_LOG_PRETTY`). */
export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  return pino({
    level: options.level ?? 'info',
    base: { pid: process.pid },
    ...(options.pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
