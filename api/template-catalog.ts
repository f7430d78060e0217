import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkflowSpecInput } from '../engine/domain/workflow.ts';

/** A built-in script with a ready-to-PUT workflow body (edit env and permissions first). */
export interface Template {
  name: string;
  description: string;
  workflow: WorkflowSpecInput;
}

// The shipped scripts live in workflows/ (they import only the script contract); this loader is host code.
const read = (file: string) => readFileSync(fileURLToPath(new URL(file, new URL('../workflows/', import.meta.url))), 'utf8');

export function loadTemplates(): Template[] {
  return [
    {
      name: 'canary-release',
      description:
        'Moves traffic to a canary route step by step while its error rate and p99 stay within bounds; rolls back after repeated failures; holds on too little traffic.',
      workflow: {
        script: read('./canary-release.ts'),
        trigger: { cron: '* * * * *', timezone: 'UTC' },
        env: {
          GATEWAY: 'shop',
          STABLE_ROUTE: 'stable',
          CANARY_ROUTE: 'canary',
          STEP: 10,
          MAX_ERROR_RATE: 0.01,
          MAX_P99_MS: 500,
          WINDOW: '1m',
          MIN_SAMPLES: 20,
          FAILURES: 2,
        },
        permissions: { gateways: ['shop'], deployments: {} },
        limits: { timeoutMs: 30_000, memoryMb: 32 },
      },
    },
    {
      name: 'rollback-hook',
      description:
        'On an alert posted to /api/v1/events (Alertmanager-style) or from Veer itself, sends all traffic of a gateway back to its stable route. ' +
        "Workflows' own emits are not accepted (`sources`): the hook holds gateway permissions, scripts that emit alerts may not.",
      workflow: {
        script: read('./rollback-hook.ts'),
        trigger: { events: { tags: ['alerts'], sources: ['api', 'veer'] } },
        env: { GATEWAY: 'shop', STABLE_ROUTE: 'stable' },
        permissions: { gateways: ['shop'], deployments: {} },
        overlap: 'allow',
      },
    },
    {
      name: 'cron-autoscaler',
      description: "Sizes a deployment for its gateway's request rate on a schedule, with hysteresis on the way down.",
      workflow: {
        script: read('./cron-autoscaler.ts'),
        trigger: { cron: '*/1 * * * *', timezone: 'UTC' },
        env: { DEPLOYMENT: 'shop-v1', GATEWAY: 'shop', TARGET_RPS: 50, MIN: 1, MAX: 10, WINDOW: '5m', DOWN_AFTER: 3 },
        permissions: { gateways: [], deployments: { 'shop-v1': { minInstances: 1, maxInstances: 10 } } },
      },
    },
    {
      name: 'health-metrics',
      description: 'Publishes a health.gateway event per gateway (and its routes) every minute.',
      workflow: {
        script: read('./health-metrics.ts'),
        trigger: { cron: '* * * * *', timezone: 'UTC' },
        env: { WINDOW: '1m', MIN_SAMPLES: 10 },
      },
    },
  ];
}
