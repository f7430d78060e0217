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
        'Argo Rollouts-style canary on a gateway: steps the canary route through STEPS (weights, with optional pauses) while it is as healthy as the stable route ' +
        '(error rate within MAX_ERROR_RATE_DELTA of stable, p99 within MAX_P99_RATIO of stable, absolute caps MAX_ERROR_RATE and MAX_P99_MS), holds on too little traffic ' +
        '(noData; aborts after MAX_NO_DATA in a row unless ON_NO_DATA is hold) and rolls back to stable 100 after FAILURE_LIMIT failed checks, with the evidence in a ' +
        'canary.rolled_back event. Gate a step with {"pause": "manual"} in STEPS and promote it with POST /api/v1/workflows/{name}/signals {"name": "promote"}; ' +
        '"promote-full" jumps to 100, "abort" rolls back at once (trigger.signals: a signal starts a run without waiting for the next tick). ' +
        'Where the release stands, with a history of every check: GET /api/v1/workflows/{name}/state; DELETE it to start over. ' +
        'A new RELEASE value (or a changed CANARY_DEPLOYMENT image) starts the next release. ' +
        'ANALYSIS "prometheus" takes the numbers from Prometheus instead (VEER_PROMETHEUS_URL; PROM_ERROR_RATE_QUERY, PROM_LATENCY_QUERY, PROM_REQUESTS_QUERY with ' +
        '$gateway, $route and $window filled in; defaults read HAProxy\'s exporter, proxy="r.<gateway>.<route>"): same checks; a query error holds the canary.',
      workflow: {
        script: read('./canary-release.ts'),
        // Every 10 s: with FAILURE_LIMIT 2 a bad canary is out within ~20 s of its errors showing in the
        // WINDOW, and a check costs two metrics reads. Signals start a run at once; cron overlap stays skip.
        trigger: { cron: '*/10 * * * * *', timezone: 'UTC', signals: true },
        env: {
          GATEWAY: 'shop',
          STABLE_ROUTE: 'stable',
          CANARY_ROUTE: 'canary',
          CANARY_DEPLOYMENT: 'shop-v2',
          RELEASE: null,
          CANARY_MIN_INSTANCES: 0,
          STEPS: '[5, 25, {"weight": 50, "pause": "manual"}, 100]',
          WINDOW: '1m',
          MIN_SAMPLES: 20,
          MAX_ERROR_RATE_DELTA: 0.01,
          MAX_P99_RATIO: 1.5,
          P99_TOLERANCE_MS: 5,
          MAX_ERROR_RATE: 0.05,
          MAX_P99_MS: 1000,
          MAX_NO_DATA: 5,
          ON_NO_DATA: 'abort',
          FAILURE_LIMIT: 2,
          // builtin: Veer's gateway metrics; prometheus: the PROM_* queries (null: the defaults on HAProxy's exporter).
          ANALYSIS: 'builtin',
          PROM_ERROR_RATE_QUERY: null,
          PROM_LATENCY_QUERY: null,
          PROM_REQUESTS_QUERY: null,
        },
        // The canary's gateway to move, and its deployment to scale down on rollback (to CANARY_MIN_INSTANCES, within these bounds).
        permissions: { gateways: ['shop'], deployments: { 'shop-v2': { minInstances: 0, maxInstances: 10 } } },
        limits: { timeoutMs: 30_000, memoryMb: 32 },
      },
    },
    {
      name: 'rollback-hook',
      description:
        'On an alert from Alertmanager (POST /api/v1/webhooks/alertmanager: alert.firing events; resolved ones are ignored), one posted to /api/v1/events, or one from Veer itself, puts a gateway back on the weights it had before the canary release began ' +
        '(the stableWeights of the newest canary.started event tagged canary:<gateway>, which permissions.events must grant; else STABLE_ROUTE 100) and scales ' +
        'CANARY_DEPLOYMENT down to CANARY_MIN_INSTANCES (a refusal is logged, not fatal). The change is a rollback caused by the alert: Veer emits ' +
        'gateway.rolled_back with the weights before and after, the alert id and its summary. Idempotent: further alerts change and emit nothing ({"changed": false}). ' +
        'Alerts queue (overlap queue, the default for event triggers): two alerts, two runs, one after the other. ' +
        "Workflows' own emits are not accepted (`sources`): the hook holds gateway permissions, scripts that emit alerts may not.",
      workflow: {
        script: read('./rollback-hook.ts'),
        trigger: { events: { tags: ['alerts'], sources: ['api', 'veer', 'alertmanager'] } },
        env: { GATEWAY: 'shop', STABLE_ROUTE: 'stable', CANARY_ROUTE: 'canary', CANARY_DEPLOYMENT: 'shop-v2', CANARY_MIN_INSTANCES: 0, CANARY_WORKFLOW: null },
        // The gateway to move, the canary to scale down (its minInstances must allow CANARY_MIN_INSTANCES), the canary's records to read.
        permissions: { gateways: ['shop'], deployments: { 'shop-v2': { minInstances: 0, maxInstances: 10 } }, events: ['canary:shop'] },
      },
    },
    {
      name: 'cron-autoscaler',
      description:
        'The Kubernetes HPA rule on a schedule: desired = ceil(current × metric / TARGET), no change within TOLERANCE (10 %), on requests per second per ready ' +
        'instance (METRIC rps) or p99 latency in ms (METRIC p99) of GATEWAY (ROUTE), clamped to MIN..MAX. A scale-down goes only to the highest recommendation of the ' +
        'last STABILIZATION, and waits COOLDOWN after a change; scale-up is immediate. noData leaves the deployment alone. ' +
        'MIN..MAX must lie within permissions.deployments: Veer refuses a scale outside them (the run fails), it never clamps. ' +
        'Its recommendations are in GET /api/v1/workflows/{name}/state (key autoscaler).',
      workflow: {
        script: read('./cron-autoscaler.ts'),
        // Every 15 s, HPA's default sync period.
        trigger: { cron: '*/15 * * * * *', timezone: 'UTC' },
        env: {
          DEPLOYMENT: 'shop-v1',
          GATEWAY: 'shop',
          ROUTE: null,
          METRIC: 'rps',
          TARGET: 50,
          MIN: 1,
          MAX: 10,
          TOLERANCE: 0.1,
          WINDOW: '1m',
          MIN_SAMPLES: 10,
          STABILIZATION: '5m',
          COOLDOWN: '1m',
        },
        // MIN..MAX must lie within these bounds: a scale outside them is refused, not clamped.
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
