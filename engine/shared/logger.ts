import { pino, type Logger } from 'pino';

export type { Logger };

/** Service logger. Components take a child: `logger.child({ component: 'engine', runId })`. */
export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  return pino({
    level: options.level ?? 'info',
    base: { pid: process.pid },
    ...(options.pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}

/** A logger that drops everything; for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
