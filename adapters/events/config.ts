import { z } from 'zod';
import { parseEnv } from '../../engine/shared/env.ts';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

/** Env of the events area (store, SSE, Elasticsearch tailing and query triggers, remote streams). */
export const EventsEnvSchema = z.object({
  VEER_EVENTS_STORE: z.enum(['redis', 'elasticsearch']).default('redis'),
  VEER_EVENTS_MAXLEN: int(100_000, 100),
  VEER_EVENTS_SSE_HEARTBEAT_MS: int(15_000, 100),
  VEER_EVENTS_TRIGGER_REFRESH_MS: int(1000, 50),
  VEER_EVENTS_ES_POLL_MS: int(1000, 50),
  VEER_EVENTS_ES_BUFFER_MS: int(30_000, 0),
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
