import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ApiToken } from './domain/access.ts';
import { checkUnique, parseTokenFile, tokensFromList } from './domain/api-tokens.ts';
import { DEFAULT_CEILINGS, type LimitCeilings } from './domain/ceilings.ts';
import { DEFAULT_BUDGETS, type BudgetLimits } from './sandbox/run-budget.ts';
import { parseEnv, type Env } from './shared/env.ts';
import { VeerError } from './shared/errors.ts';

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
  VEER_API_TOKENS_FILE: z.string().optional(),
  // The dashboard (api/ui-static.ts, api/session.ts): where its built files are, and how long a login lasts.
  VEER_UI_DIR: z.string().optional(),
  VEER_SESSION_TTL_MS: int(12 * 3600_000, 60_000, 30 * 24 * 3600_000),
  VEER_AUDIT_MAXLEN: int(100_000, 100, 100_000_000),
  VEER_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  VEER_LOG_PRETTY: bool.default(false),
  VEER_ENGINE_CONCURRENCY: int(8, 1, 1000),
  VEER_SANDBOX_PROCESSES: int(2, 1, 64),
  // Sandbox children (engine/sandbox/isolated-host.ts): resident memory cap (default derived from
  // runs per process × VEER_MAX_MEMORY_MB), recycling, liveness, and quarantine of crashing workflows.
  VEER_SANDBOX_CHILD_MEMORY_MB: z.coerce
    .number()
    .int()
    .min(64)
    .max(1024 * 1024)
    .optional(),
  VEER_SANDBOX_RECYCLE_RUNS: int(500, 1),
  VEER_SANDBOX_RECYCLE_RSS_MB: int(256, 16, 1024 * 1024),
  VEER_SANDBOX_UNRESPONSIVE_MS: int(10_000, 500, 3600_000),
  VEER_SANDBOX_KILL_GRACE_MS: int(1000, 50, 600_000),
  VEER_SANDBOX_QUARANTINE_CRASHES: int(3, 0, 1000),
  VEER_SANDBOX_QUARANTINE_WINDOW_MS: int(600_000, 1000, 7 * 24 * 3600_000),
  VEER_RUN_HISTORY: int(200, 1, 100_000),
  VEER_RUN_LOG_MAX: int(1000, 10, 1_000_000),
  VEER_RESULT_MAX_BYTES: int(1024 * 1024, 1024, 64 * 1024 * 1024),
  VEER_CRON_CATCHUP: z.enum(['latest', 'none']).default('latest'),
  VEER_CRON_CATCHUP_WINDOW_MS: int(3600_000, 0),
  VEER_SHUTDOWN_GRACE_MS: int(30_000, 0),
  VEER_JOB_LOCK_MS: int(30_000, 500, 3600_000),
  // Engine heartbeats (p:engine:<id>): a run whose engine missed 5 beats no longer blocks its workflow.
  VEER_ENGINE_HEARTBEAT_MS: int(2000, 100, 600_000),
  // Event trigger loops: an event this many event-triggered runs from its origin starts no more runs.
  VEER_EVENTS_MAX_HOPS: int(3, 0, 100),
  // Operator ceilings over uploaded `limits` (engine/domain/ceilings.ts); CPU defaults to the timeout ceiling.
  VEER_MAX_TIMEOUT_MS: int(DEFAULT_CEILINGS.timeoutMs, 10, 24 * 3600_000),
  VEER_MAX_MEMORY_MB: int(DEFAULT_CEILINGS.memoryMb, 8, 1024),
  VEER_MAX_CPU_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(24 * 3600_000)
    .optional(),
  VEER_MAX_WORKFLOW_CONCURRENCY: int(DEFAULT_CEILINGS.concurrency, 1, 1000),
  // Per-run budgets (engine/sandbox/run-budget.ts): what one run may make the engine do for it.
  VEER_BUDGET_HOST_CALLS: int(DEFAULT_BUDGETS.hostCalls, 1),
  VEER_BUDGET_HOST_CALLS_IN_FLIGHT: int(DEFAULT_BUDGETS.hostCallsInFlight, 1, 100_000),
  VEER_BUDGET_BYTES_RETURNED: int(DEFAULT_BUDGETS.bytesReturned, 1024),
  VEER_BUDGET_EVENTS_EMITTED: int(DEFAULT_BUDGETS.eventsEmitted, 0),
  VEER_BUDGET_EVENT_RESULTS: int(DEFAULT_BUDGETS.eventResults, 0),
  VEER_BUDGET_METRICS_WINDOW_MS: int(DEFAULT_BUDGETS.metricsWindowMs, 1000),
  VEER_BUDGET_HTTP_REQUESTS: int(DEFAULT_BUDGETS.httpRequests, 0),
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
  /** `tokens`: from VEER_API_TOKENS (admin) and VEER_API_TOKENS_FILE (scoped); empty = no auth. */
  api: {
    host: string;
    port: number;
    tokens: ApiToken[];
    /** The dashboard's built files (default `ui/dist` in the checkout); absent files answer a how-to. */
    uiDir: string;
    sessionTtlMs: number;
  };
  /** Audit entries kept in the Redis stream (approximate trim). */
  audit: { maxLen: number };
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
    /** Interval of the engine's heartbeat; it expires after 5 missed beats. */
    heartbeatMs: number;
    /** The environment of sandbox child processes: TZ, LANG, LC_ALL of this process when set. */
    sandboxEnv: Record<string, string>;
    /** Supervision of the sandbox children (VEER_SANDBOX_*). */
    sandbox: SandboxSupervision;
    /** Events with more hops than this start no run (`trigger.skipped`, reason `loop`). */
    eventsMaxHops: number;
    /** Per-run budgets (VEER_BUDGET_*). */
    budgets: BudgetLimits;
    /** What uploads may ask for in `limits`; stored workflows above them are held to them at run time. */
    ceilings: LimitCeilings;
  };
  redisAutostart: boolean;
  dataDir: string;
  /** `npm start` runs a gateway agent: always, never, or when `haproxy` is installed. */
  startGatewayAgent: 'auto' | 'true' | 'false';
}

export interface SandboxSupervision {
  /** Runs one child executes at once (concurrency / processes). */
  runsPerProcess: number;
  /** Resident memory a child may reach before it is killed. */
  childMemoryMb: number;
  recycleRuns: number;
  recycleRssMb: number;
  unresponsiveMs: number;
  /** A child that has not stopped a run this long after being told to is SIGKILLed. */
  killGraceMs: number;
  /** Process kills by one workflow version within the window that quarantine it; 0 = never. */
  quarantineCrashes: number;
  quarantineWindowMs: number;
}

/** Room for one child's Node, isolated-vm and IPC beyond its isolates' heaps (a bare child is ~50 MB). */
const CHILD_OVERHEAD_MB = 256;

export function loadCoreConfig(env: Env): CoreConfig {
  const e = { ...parseEnv(CoreEnvSchema, env), VEER_LOG_PRETTY_SET: !!env.VEER_LOG_PRETTY };
  const tokens = loadTokens(e.VEER_API_TOKENS, e.VEER_API_TOKENS_FILE);
  return {
    redisUrl: e.VEER_REDIS_URL,
    redisPrefix: e.VEER_REDIS_PREFIX,
    // Without tokens the API is unauthenticated, so it must not be reachable from other hosts.
    api: {
      host: e.VEER_API_HOST ?? (tokens.length ? '0.0.0.0' : '127.0.0.1'),
      port: e.VEER_API_PORT,
      tokens,
      uiDir: e.VEER_UI_DIR ?? fileURLToPath(new URL('../ui/dist', import.meta.url)),
      sessionTtlMs: e.VEER_SESSION_TTL_MS,
    },
    audit: { maxLen: e.VEER_AUDIT_MAXLEN },
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
      heartbeatMs: e.VEER_ENGINE_HEARTBEAT_MS,
      sandboxEnv: Object.fromEntries((['TZ', 'LANG', 'LC_ALL'] as const).flatMap((n) => (e[n] ? [[n, e[n]]] : []))),
      sandbox: sandboxSupervision(e),
      eventsMaxHops: e.VEER_EVENTS_MAX_HOPS,
      budgets: {
        hostCalls: e.VEER_BUDGET_HOST_CALLS,
        hostCallsInFlight: e.VEER_BUDGET_HOST_CALLS_IN_FLIGHT,
        bytesReturned: e.VEER_BUDGET_BYTES_RETURNED,
        eventsEmitted: e.VEER_BUDGET_EVENTS_EMITTED,
        eventResults: e.VEER_BUDGET_EVENT_RESULTS,
        metricsWindowMs: e.VEER_BUDGET_METRICS_WINDOW_MS,
        httpRequests: e.VEER_BUDGET_HTTP_REQUESTS,
      },
      ceilings: {
        timeoutMs: e.VEER_MAX_TIMEOUT_MS,
        memoryMb: e.VEER_MAX_MEMORY_MB,
        cpuMs: e.VEER_MAX_CPU_MS ?? e.VEER_MAX_TIMEOUT_MS,
        concurrency: e.VEER_MAX_WORKFLOW_CONCURRENCY,
      },
    },
    redisAutostart: e.VEER_REDIS_AUTOSTART,
    dataDir: e.VEER_DATA_DIR,
    startGatewayAgent: e.VEER_START_GATEWAY_AGENT,
  };
}

/** Plain VEER_API_TOKENS are admin (as before scopes existed); the file adds named, scoped ones. */
function loadTokens(list: string | undefined, file: string | undefined): ApiToken[] {
  const fail = (variable: string, message: string): never => {
    throw new VeerError('CONFIG', `invalid configuration: ${variable}: ${message}`, { details: { issues: [{ path: variable, message }] } });
  };
  const tokens = tokensFromList(list ?? '');
  if (file !== undefined) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      fail('VEER_API_TOKENS_FILE', `cannot read ${file}: ${(err as Error).message}`);
    }
    try {
      tokens.push(...parseTokenFile(text, file));
    } catch (err) {
      fail('VEER_API_TOKENS_FILE', (err as Error).message);
    }
  }
  try {
    checkUnique(tokens);
  } catch (err) {
    fail(file === undefined ? 'VEER_API_TOKENS' : 'VEER_API_TOKENS_FILE', (err as Error).message);
  }
  return tokens;
}

function sandboxSupervision(e: z.infer<typeof CoreEnvSchema>): SandboxSupervision {
  const runsPerProcess = Math.max(1, Math.ceil(e.VEER_ENGINE_CONCURRENCY / e.VEER_SANDBOX_PROCESSES));
  return {
    runsPerProcess,
    // Every run of a full child at the heap ceiling, plus the process itself.
    childMemoryMb: e.VEER_SANDBOX_CHILD_MEMORY_MB ?? runsPerProcess * e.VEER_MAX_MEMORY_MB + CHILD_OVERHEAD_MB,
    recycleRuns: e.VEER_SANDBOX_RECYCLE_RUNS,
    recycleRssMb: e.VEER_SANDBOX_RECYCLE_RSS_MB,
    unresponsiveMs: e.VEER_SANDBOX_UNRESPONSIVE_MS,
    killGraceMs: e.VEER_SANDBOX_KILL_GRACE_MS,
    quarantineCrashes: e.VEER_SANDBOX_QUARANTINE_CRASHES,
    quarantineWindowMs: e.VEER_SANDBOX_QUARANTINE_WINDOW_MS,
  };
}
