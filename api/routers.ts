import type { OpenAPIHono } from '@hono/zod-openapi';
import type { System } from '../engine/system.ts';
import { loadTemplates } from './template-catalog.ts';
import { createAuditRoutes } from './routes/audit.ts';
import { createDeploymentRoutes } from './routes/deployments.ts';
import { createEventRoutes } from './routes/events.ts';
import { createGatewayRoutes } from './routes/gateways.ts';
import { createHealthRoutes } from './routes/health.ts';
import { createMetricsRoutes } from './routes/metrics.ts';
import { createRunRoutes } from './routes/runs.ts';
import { createTemplateRoutes } from './routes/templates.ts';
import { createWorkflowRoutes } from './routes/workflows.ts';
import { createSignalRoutes } from './routes/signals.ts';
import { createWorkflowControlRoutes } from './routes/workflow-controls.ts';
import { createWorkflowStateRoutes } from './routes/workflow-state.ts';
import { createTriggerRoutes } from './routes/triggers.ts';
import { createNotifierRoutes } from './routes/notifiers.ts';
import { createSignalService } from '../engine/runs/signal-service.ts';
import { createSecretRoutes } from './routes/secrets.ts';
import { alertmanagerRouteTokens, createAlertmanagerRoutes } from './routes/alertmanager.ts';
import type { RouteToken } from './auth.ts';
import { createPrometheusTargetRoutes } from './routes/prometheus-targets.ts';
import { createReleaseRoutes } from './routes/releases.ts';

/** The API's routers for a system (ports and services only: the API never sees a vendor client). */
export function createRouters(system: System): { routers: OpenAPIHono[]; rootRouters: OpenAPIHono[]; routeTokens: RouteToken[] } {
  const s = system.stores;
  const routers: OpenAPIHono[] = [
    // First: its middleware authorizes and audits every /api/v1 route mounted after it.
    createAuditRoutes({
      audit: system.audit,
      runWorkflow: async (id) => (await s.runs.get(id))?.workflow,
      logger: system.logger.child({ component: 'access' }),
    }),
    createWorkflowRoutes({ workflows: s.workflows, ceilings: system.config.engine.ceilings, quarantine: s.quarantine, runs: s.runs }),
    createRunRoutes({ workflows: s.workflows, runs: s.runs, launcher: s.launcher, canceller: s.canceller }),
    createSignalRoutes({
      workflows: s.workflows,
      signals: s.signals,
      service: createSignalService({ workflows: s.workflows, signals: s.signals, launcher: s.launcher, emit: system.emit }),
    }),
    createWorkflowControlRoutes({ workflows: s.workflows, emit: system.emit }),
    createTriggerRoutes({ workflows: s.workflows, history: s.triggerHistory }),
    createWorkflowStateRoutes({ workflows: s.workflows, state: s.state }),
    createEventRoutes({ events: system.events.store, bus: system.events.bus, heartbeatMs: system.events.heartbeatMs }),
    createGatewayRoutes({ gateways: system.gateways }),
    createMetricsRoutes({ metrics: system.metrics, gateways: system.gateways }),
    createDeploymentRoutes({ scheduler: system.scheduler.driver }),
    createTemplateRoutes({ templates: loadTemplates() }),
    createReleaseRoutes({ workflows: s.workflows, state: s.state, runs: s.runs }),
    createNotifierRoutes({ notifiers: system.notifiers, events: system.events.store, signal: (ch, msg) => s.coordination.signal(ch, msg) }),
    createSecretRoutes({ secrets: system.secrets }),
    createAlertmanagerRoutes({ bus: system.events.bus, onceKeys: system.webhooks.onceKeys }),
    createPrometheusTargetRoutes({ kv: system.kv, scheduler: system.scheduler.driver, gateways: system.gateways, api: system.config.api }),
  ];
  const rootRouters = [createHealthRoutes({ coordination: s.coordination, queue: s.queue, stats: s.stats, triggers: s.triggerHistory })];
  // Tokens good for one route only (createApp's `routeTokens`).
  return { routers, rootRouters, routeTokens: alertmanagerRouteTokens(system.webhooks.alertmanagerToken) };
}
