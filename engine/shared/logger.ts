/**
 * The service logger every component receives: a small interface of our own, so no layer
 * depends on the logging library (the composition root creates a pino logger, which
 * satisfies it). Components take a child: `logger.child({ component: 'engine', runId })`.
 * What a *script* logs is run data (the run's log), not service logging.
 */
export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const noop: LogFn = () => undefined;

/** A logger that drops everything; for tests and benchmarks. */
export function silentLogger(): Logger {
  const logger: Logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop, child: () => logger };
  return logger;
}
