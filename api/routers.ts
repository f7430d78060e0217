import type { OpenAPIHono } from '@hono/zod-openapi';
import type { System } from '../engine/system.ts';
import { createDeploymentRoutes } from './routes/deployments.ts';
import { createEventRoutes } from './routes/events.ts';
import { createGatewayRoutes } from './routes/gateways.ts';
import { createHealthRoutes } from './routes/health.ts';
import { createMetricsRoutes } from './routes/metrics.ts';
import { createTemplateRoutes } from './routes/templates.ts';
import { loadTemplates } from '../workflows/catalog.ts';
import { createRunRoutes } from './routes/runs.ts';
import { createWorkflowRoutes } from './routes/workflows.ts';

/** The API's routers for a system; resources whose service is absent are not mounted. */
export function createRouters(system: System): { routers: OpenAPIHono[]; rootRouters: OpenAPIHono[] } {
  const s = system.stores;
  const routers: OpenAPIHono[] = [
    createWorkflowRoutes({ workflows: s.workflows }),
    createRunRoutes({ workflows: s.workflows, runs: s.runs, launcher: s.launcher, canceller: s.canceller, connect: s.connect }),
    createEventRoutes({ events: system.events.store, bus: system.events.bus, heartbeatMs: system.events.config.sseHeartbeatMs }),
    createGatewayRoutes({ gateways: system.gateways }),
    createMetricsRoutes({ metrics: system.metrics }),
    createDeploymentRoutes({ scheduler: system.scheduler.driver }),
    createTemplateRoutes({ templates: loadTemplates() }),
  ];
  const rootRouters = [createHealthRoutes({ redis: s.redis, keys: s.keys, queue: s.queue, stats: s.stats })];
  return { routers, rootRouters };
}
