import { z } from 'zod';
import { parseEnv } from '../../engine/shared/env.ts';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

/**
 * The client budget of one event append to Elasticsearch, set per request so it holds for
 * any client (ours or injected): at most `maxRetries` resends, each attempt bounded by
 * `requestTimeoutMs`. The tail's look-back is derived from it (minimumEsTailBufferMs).
 */
export const ES_APPEND_BUDGET = { requestTimeoutMs: 5000, maxRetries: 2 } as const;
/** The events template sets this refresh_interval, so a written event is searchable within it. */
export const ES_EVENTS_REFRESH_MS = 1000;

/**
 * The shortest safe tail look-back. An event is stamped `ingestedAt` before its first
 * attempt; the last retry can start after (maxRetries) timed-out or failed attempts plus
 * the transport's backoff between them (@elastic/transport retryBackoff: at most
 * min(4, 2^attempt) s), and the write it makes is applied within its own timeout, then
 * searchable after one refresh. A tail that looks back less than that loses such an event
 * for good. 5 s of margin covers a slow poll and GC pauses:
 * 3 × 5 s + (2 s + 4 s) + 1 s + 5 s = 27 s (the default, 30 s, is above it).
 */
export function minimumEsTailBufferMs(budget: { requestTimeoutMs: number; maxRetries: number } = ES_APPEND_BUDGET): number {
  let backoff = 0;
  for (let a = 1; a <= budget.maxRetries; a++) backoff += Math.min(4, 2 ** a) * 1000;
  return (budget.maxRetries + 1) * budget.requestTimeoutMs + backoff + ES_EVENTS_REFRESH_MS + 5000;
}

/** Env of the events area (store, SSE, Elasticsearch tailing and query triggers, remote streams). */
export const EventsEnvSchema = z.object({
  VEER_EVENTS_STORE: z.enum(['redis', 'elasticsearch']).default('redis'),
  VEER_EVENTS_MAXLEN: int(100_000, 100),
  VEER_EVENTS_SSE_HEARTBEAT_MS: int(15_000, 100),
  VEER_EVENTS_TRIGGER_REFRESH_MS: int(1000, 50),
  VEER_EVENTS_ES_POLL_MS: int(1000, 50),
  VEER_EVENTS_ES_BUFFER_MS: z.coerce
    .number()
    .int()
    .min(minimumEsTailBufferMs(), `must be at least ${minimumEsTailBufferMs()} ms: an append's own retries can make an event searchable that late`)
    .default(30_000),
  VEER_EVENTS_ES_DELAY_MS: int(0, 0),
  VEER_ES_URL: z.string().url().default('http://127.0.0.1:9200'),
  VEER_ES_API_KEY: z.string().optional(),
  VEER_ES_USERNAME: z.string().optional(),
  VEER_ES_PASSWORD: z.string().optional(),
  VEER_ES_INDEX_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, _ and -')
    .default('veer'),
  VEER_ES_TRIGGER_BUFFER_MS: int(60_000, 0),
  VEER_ES_TRIGGER_DELAY_MS: int(0, 0),
  VEER_EVENTS_REMOTE_URLS: z.string().optional(),
  VEER_EVENTS_REMOTE_TOKEN: z.string().optional(),
});

export interface ElasticsearchConfig {
  url: string;
  apiKey?: string;
  username?: string;
  password?: string;
  indexPrefix: string;
}

export interface EventsConfig {
  store: 'redis' | 'elasticsearch';
  maxLen: number;
  sseHeartbeatMs: number;
  triggerRefreshMs: number;
  esTail: { pollMs: number; bufferMs: number; delayMs: number };
  esTriggers: { bufferMs: number; delayMs: number };
  elasticsearch: ElasticsearchConfig;
  remote: { urls: string[]; token?: string };
}

export function loadElasticsearchConfig(env: Record<string, string | undefined>): ElasticsearchConfig {
  const e = parseEnv(EventsEnvSchema, env);
  return { url: e.VEER_ES_URL, apiKey: e.VEER_ES_API_KEY, username: e.VEER_ES_USERNAME, password: e.VEER_ES_PASSWORD, indexPrefix: e.VEER_ES_INDEX_PREFIX };
}

export function loadEventsConfig(env: Record<string, string | undefined>): EventsConfig {
  const e = parseEnv(EventsEnvSchema, env);
  const urls = (e.VEER_EVENTS_REMOTE_URLS ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  for (const u of urls) {
    if (!URL.canParse(u)) parseEnv(z.object({ VEER_EVENTS_REMOTE_URLS: z.string().url() }), { VEER_EVENTS_REMOTE_URLS: u });
  }
  return {
    store: e.VEER_EVENTS_STORE,
    maxLen: e.VEER_EVENTS_MAXLEN,
    sseHeartbeatMs: e.VEER_EVENTS_SSE_HEARTBEAT_MS,
    triggerRefreshMs: e.VEER_EVENTS_TRIGGER_REFRESH_MS,
    esTail: { pollMs: e.VEER_EVENTS_ES_POLL_MS, bufferMs: e.VEER_EVENTS_ES_BUFFER_MS, delayMs: e.VEER_EVENTS_ES_DELAY_MS },
    esTriggers: { bufferMs: e.VEER_ES_TRIGGER_BUFFER_MS, delayMs: e.VEER_ES_TRIGGER_DELAY_MS },
    elasticsearch: loadElasticsearchConfig(env),
    remote: { urls, token: e.VEER_EVENTS_REMOTE_TOKEN },
  };
}
