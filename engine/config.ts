import { z } from 'zod';
import { parseEnv, type Env } from './shared/env.ts';

/**
 * Configuration is read from the environment once, at start-up: the composition root
 * (boot/config.ts) compiles every area's section (core here; kv, events, metrics,
 * scheduler and agent in adapters/<area>/config.ts); a bad value stops start-up with a
 * message naming the variable.
 */
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);

export const CoreEnvSchema = z.object({
  VEER_REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  VEER_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/)
    .default('veer'),
  VEER_API_HOST: z.string().optional(),
  VEER_API_PORT: int(8080, 0, 65535),
  VEER_API_TOKENS: z.string().optional(),
  VEER_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  VEER_LOG_PRETTY: bool.default(false),
  VEER_ENGINE_CONCURRENCY: int(8, 1, 1000),
  VEER_SANDBOX_PROCESSES: int(2, 1, 64),
  VEER_RUN_HISTORY: int(200, 1, 100_000),
  VEER_RUN_LOG_MAX: int(1000, 10, 1_000_000),
  VEER_RESULT_MAX_BYTES: int(1024 * 1024, 1024, 64 * 1024 * 1024),
  VEER_CRON_CATCHUP: z.enum(['latest', 'none']).default('latest'),
  VEER_CRON_CATCHUP_WINDOW_MS: int(3600_000, 0),
  VEER_SHUTDOWN_GRACE_MS: int(30_000, 0),
  VEER_JOB_LOCK_MS: int(30_000, 500, 3600_000),
  VEER_REDIS_AUTOSTART: bool.default(true),
  VEER_DATA_DIR: z.string().default('.veer'),
  VEER_START_GATEWAY_AGENT: z.enum(['auto', 'true', 'false']).default('auto'),
  // The sandbox children inherit only these (time zone and locale), never secrets or URLs.
  TZ: z.string().optional(),
  LANG: z.string().optional(),
  LC_ALL: z.string().optional(),
});

export interface CoreConfig {
  redisUrl: string;
  redisPrefix: string;
  api: { host: string; port: number; tokens: string[] };
  logLevel: string;
  logPretty: boolean;
  /** Whether VEER_LOG_PRETTY was set (`npm start` otherwise pretty-prints on a terminal). */
  logPrettyExplicit: boolean;
  engine: {
    concurrency: number;
    sandboxProcesses: number;
    runHistory: number;
    runLogMax: number;
    resultMaxBytes: number;
    cronCatchUp: 'latest' | 'none';
    cronCatchUpWindowMs: number;
    shutdownGraceMs: number;
    /** A run whose engine stops renewing its lock this long is resumed elsewhere. */
    jobLockMs: number;
    /** The environment of sandbox child processes: TZ, LANG, LC_ALL of this process when set. */
    sandboxEnv: Record<string, string>;
  };
  redisAutostart: boolean;
  dataDir: string;
  /** `npm start` runs a gateway agent: always, never, or when `haproxy` is installed. */
  startGatewayAgent: 'auto' | 'true' | 'false';
}

export function loadCoreConfig(env: Env): CoreConfig {
  const e = { ...parseEnv(CoreEnvSchema, env), VEER_LOG_PRETTY_SET: !!env.VEER_LOG_PRETTY };
  const tokens = (e.VEER_API_TOKENS ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return {
    redisUrl: e.VEER_REDIS_URL,
    redisPrefix: e.VEER_REDIS_PREFIX,
    // Without tokens the API is unauthenticated, so it must not be reachable from other hosts.
    api: { host: e.VEER_API_HOST ?? (tokens.length ? '0.0.0.0' : '127.0.0.1'), port: e.VEER_API_PORT, tokens },
    logLevel: e.VEER_LOG_LEVEL,
    logPretty: e.VEER_LOG_PRETTY,
    logPrettyExplicit: e.VEER_LOG_PRETTY_SET,
    engine: {
      concurrency: e.VEER_ENGINE_CONCURRENCY,
      sandboxProcesses: e.VEER_SANDBOX_PROCESSES,
      runHistory: e.VEER_RUN_HISTORY,
      runLogMax: e.VEER_RUN_LOG_MAX,
      resultMaxBytes: e.VEER_RESULT_MAX_BYTES,
      cronCatchUp: e.VEER_CRON_CATCHUP,
      cronCatchUpWindowMs: e.VEER_CRON_CATCHUP_WINDOW_MS,
      shutdownGraceMs: e.VEER_SHUTDOWN_GRACE_MS,
      jobLockMs: e.VEER_JOB_LOCK_MS,
      sandboxEnv: Object.fromEntries((['TZ', 'LANG', 'LC_ALL'] as const).flatMap((n) => (e[n] ? [[n, e[n]]] : []))),
    },
    redisAutostart: e.VEER_REDIS_AUTOSTART,
    dataDir: e.VEER_DATA_DIR,
    startGatewayAgent: e.VEER_START_GATEWAY_AGENT,
  };
}
