import { z } from 'zod';
import { parseEnv, type Env } from '../shared/env.ts';

/**
 * How Veer reaches the user's stack: outbound HTTP from scripts, the key secrets are encrypted
 * with, Alertmanager's webhook token and notifier delivery. Compiled once at start-up by
 * boot/config.ts; a bad value stops start-up naming the variable.
 */
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);

/** 32 bytes as 64 hex digits or as base64 (44 characters with padding). */
const secretKey = z
  .string()
  .transform((v, ctx) => {
    const t = v.trim();
    const bytes = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(t) ? Buffer.from(t, 'base64') : undefined;
    if (!bytes || bytes.length !== 32) {
      ctx.addIssue({ code: 'custom', message: 'must be 32 bytes as 64 hex digits or base64 (make one with `openssl rand -hex 32`)' });
      return z.NEVER;
    }
    return bytes;
  })
  .optional();

export const ConnectEnvSchema = z.object({
  VEER_HTTP_MAX_BYTES: int(1024 * 1024, 1024, 64 * 1024 * 1024),
  VEER_HTTP_MAX_REDIRECTS: int(5, 0, 20),
  VEER_SECRETS_KEY: secretKey,
  VEER_SECRETS_KEY_PREVIOUS: secretKey,
  VEER_ALERTMANAGER_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  VEER_NOTIFY_ATTEMPTS: int(6, 1, 100),
  VEER_NOTIFY_BACKOFF_MS: int(500, 1, 3600_000),
  VEER_NOTIFY_MAX_BACKOFF_MS: int(30_000, 1, 24 * 3600_000),
  VEER_NOTIFY_TIMEOUT_MS: int(5000, 100, 600_000),
});

export interface NotifyConfig {
  /** Tries per event and notifier, the first included; then the delivery is recorded as failed and the notifier moves on. */
  attempts: number;
  /** Backoff before try n+1: backoffMs × 2^(n-1), at most maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** One request's timeout. */
  timeoutMs: number;
}

export interface ConnectConfig {
  http: { maxBytes: number; maxRedirects: number };
  /** Absent: the API refuses to store secrets and says how to set one. */
  secrets: { key?: Buffer; previousKey?: Buffer };
  /** When set, POST /api/v1/webhooks/alertmanager also accepts this bearer token (Alertmanager's http_config). */
  alertmanagerToken?: string;
  notify: NotifyConfig;
}

export function loadConnectConfig(env: Env): ConnectConfig {
  const e = parseEnv(ConnectEnvSchema, env);
  return {
    http: { maxBytes: e.VEER_HTTP_MAX_BYTES, maxRedirects: e.VEER_HTTP_MAX_REDIRECTS },
    secrets: { key: e.VEER_SECRETS_KEY, previousKey: e.VEER_SECRETS_KEY_PREVIOUS },
    alertmanagerToken: e.VEER_ALERTMANAGER_TOKEN,
    notify: {
      attempts: e.VEER_NOTIFY_ATTEMPTS,
      backoffMs: e.VEER_NOTIFY_BACKOFF_MS,
      maxBackoffMs: e.VEER_NOTIFY_MAX_BACKOFF_MS,
      timeoutMs: e.VEER_NOTIFY_TIMEOUT_MS,
    },
  };
}
