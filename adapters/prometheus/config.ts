import { z } from 'zod';
import { parseEnv, type Env } from '../../engine/shared/env.ts';

/** Where ctx.metrics.prometheus sends queries. Without VEER_PROMETHEUS_URL the method fails with PROMETHEUS.NOT_CONFIGURED. */
export const PrometheusEnvSchema = z.object({
  VEER_PROMETHEUS_URL: z.string().url().optional(),
  VEER_PROMETHEUS_TOKEN: z.string().min(1).optional(),
  VEER_PROMETHEUS_USERNAME: z.string().min(1).optional(),
  VEER_PROMETHEUS_PASSWORD: z.string().optional(),
  VEER_PROMETHEUS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
});

export interface PrometheusConfig {
  url?: string;
  /** Bearer token, or basic auth; at most one. */
  auth?: { bearer: string } | { username: string; password: string };
  timeoutMs: number;
}

export function loadPrometheusConfig(env: Env): PrometheusConfig {
  const e = parseEnv(
    PrometheusEnvSchema.refine((v) => !(v.VEER_PROMETHEUS_TOKEN && v.VEER_PROMETHEUS_USERNAME), {
      message: 'set VEER_PROMETHEUS_TOKEN or VEER_PROMETHEUS_USERNAME/VEER_PROMETHEUS_PASSWORD, not both',
      path: ['VEER_PROMETHEUS_TOKEN'],
    }),
    env,
  );
  const auth = e.VEER_PROMETHEUS_TOKEN
    ? { bearer: e.VEER_PROMETHEUS_TOKEN }
    : e.VEER_PROMETHEUS_USERNAME
      ? { username: e.VEER_PROMETHEUS_USERNAME, password: e.VEER_PROMETHEUS_PASSWORD ?? '' }
      : undefined;
  return { url: e.VEER_PROMETHEUS_URL?.replace(/\/+$/, ''), ...(auth ? { auth } : {}), timeoutMs: e.VEER_PROMETHEUS_TIMEOUT_MS };
}
