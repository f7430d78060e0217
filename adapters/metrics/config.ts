import { z } from 'zod';
import { parseEnv } from '../../engine/shared/env.ts';

export const MetricsEnvSchema = z.object({
  VEER_METRICS_STORE: z.enum(['redis', 'elasticsearch']).default('redis'),
  VEER_METRICS_RETENTION_MS: z.coerce.number().int().min(60_000).default(3600_000),
});

export interface MetricsConfig {
  store: 'redis' | 'elasticsearch';
  /** Redis: how long per-second buckets live; both: the longest window. */
  retentionMs: number;
}

export function loadMetricsConfig(env: Record<string, string | undefined>): MetricsConfig {
  const e = parseEnv(MetricsEnvSchema, env);
  return { store: e.VEER_METRICS_STORE, retentionMs: e.VEER_METRICS_RETENTION_MS };
}
