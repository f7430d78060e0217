import { z } from 'zod';
import { parseEnv } from '../../engine/shared/env.ts';

/** Scheduler section of the environment. Defaults run local processes on a laptop. */
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

export const SchedulerEnvSchema = z
  .object({
    VEER_SCHEDULER: z.enum(['local', 'kubernetes', 'marathon', 'rancher']).default('local'),
    VEER_SCHEDULER_POLL_MS: int(1000, 10),
    VEER_KUBE_NAMESPACE: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/)
      .default('default'),
    VEER_KUBE_AUTH: z.enum(['auto', 'in-cluster', 'kubeconfig']).default('auto'),
    VEER_KUBE_CONTEXT: z.string().optional(),
    VEER_MARATHON_URL: z.string().url().optional(),
    VEER_MARATHON_TOKEN: z.string().optional(),
    VEER_MARATHON_GROUP: z
      .string()
      .regex(/^\/?[a-z0-9/-]*$/)
      .default('/'),
    VEER_RANCHER_URL: z.string().url().optional(),
    VEER_RANCHER_TOKEN: z.string().optional(),
    VEER_RANCHER_CLUSTER: z.string().optional(),
    VEER_RANCHER_INSECURE: bool.default(false),
    VEER_LOCAL_HEALTH_INTERVAL_MS: int(1000, 10),
    VEER_LOCAL_DRAIN_MS: int(2000),
    VEER_LOCAL_STOP_GRACE_MS: int(10_000),
    VEER_LOCAL_RESTART_BACKOFF_MS: int(500, 1),
    VEER_LOCAL_RESTART_BACKOFF_MAX_MS: int(30_000, 1),
  })
  .superRefine((e, ctx) => {
    const need = (cond: boolean, names: Array<keyof typeof e>) => {
      for (const n of names) if (cond && !e[n]) ctx.addIssue({ code: 'custom', path: [n], message: `required when VEER_SCHEDULER=${e.VEER_SCHEDULER}` });
    };
    need(e.VEER_SCHEDULER === 'marathon', ['VEER_MARATHON_URL']);
    need(e.VEER_SCHEDULER === 'rancher', ['VEER_RANCHER_URL', 'VEER_RANCHER_TOKEN', 'VEER_RANCHER_CLUSTER']);
  });

export type SchedulerConfig =
  | {
      kind: 'local';
      pollIntervalMs: number;
      local: { healthIntervalMs: number; drainMs: number; stopGraceMs: number; restartBackoffMs: number; restartBackoffMaxMs: number };
      /** What every local instance's environment starts from: PATH, HOME, LANG, TMPDIR of this process (no secrets). */
      baseEnv: Record<string, string>;
    }
  | { kind: 'kubernetes'; pollIntervalMs: number; namespace: string; auth: 'auto' | 'in-cluster' | 'kubeconfig'; context?: string }
  | { kind: 'marathon'; pollIntervalMs: number; url: string; token?: string; group: string }
  | { kind: 'rancher'; pollIntervalMs: number; url: string; token: string; clusterId: string; namespace: string; insecureSkipTlsVerify: boolean };

export function loadSchedulerConfig(env: Record<string, string | undefined>): SchedulerConfig {
  const e = parseEnv(SchedulerEnvSchema, env);
  const pollIntervalMs = e.VEER_SCHEDULER_POLL_MS;
  switch (e.VEER_SCHEDULER) {
    case 'kubernetes':
      return { kind: 'kubernetes', pollIntervalMs, namespace: e.VEER_KUBE_NAMESPACE, auth: e.VEER_KUBE_AUTH, context: e.VEER_KUBE_CONTEXT };
    case 'marathon':
      return { kind: 'marathon', pollIntervalMs, url: e.VEER_MARATHON_URL!, token: e.VEER_MARATHON_TOKEN, group: e.VEER_MARATHON_GROUP };
    case 'rancher':
      return {
        kind: 'rancher',
        pollIntervalMs,
        url: e.VEER_RANCHER_URL!,
        token: e.VEER_RANCHER_TOKEN!,
        clusterId: e.VEER_RANCHER_CLUSTER!,
        namespace: e.VEER_KUBE_NAMESPACE,
        insecureSkipTlsVerify: e.VEER_RANCHER_INSECURE,
      };
    default:
      return {
        kind: 'local',
        // Local reads are one Redis round trip, so waits can poll much faster than remote drivers.
        pollIntervalMs: Math.min(pollIntervalMs, 50),
        baseEnv: pick(env, INSTANCE_BASE_ENV),
        local: {
          healthIntervalMs: e.VEER_LOCAL_HEALTH_INTERVAL_MS,
          drainMs: e.VEER_LOCAL_DRAIN_MS,
          stopGraceMs: e.VEER_LOCAL_STOP_GRACE_MS,
          restartBackoffMs: e.VEER_LOCAL_RESTART_BACKOFF_MS,
          restartBackoffMaxMs: e.VEER_LOCAL_RESTART_BACKOFF_MAX_MS,
        },
      };
  }
}

/** Passed through to local instances as they are: they need a PATH and a locale, never Veer's secrets. */
const INSTANCE_BASE_ENV = ['PATH', 'HOME', 'LANG', 'TMPDIR'];

function pick(env: Record<string, string | undefined>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.filter((n) => env[n] !== undefined).map((n) => [n, env[n]!]));
}
