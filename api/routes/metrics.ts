import { createRoute, z } from '@hono/zod-openapi';
import type { GatewayMetricsStore } from '../../engine/ports/metrics-store.ts';
import { parseDuration } from '../../engine/events/duration.ts';
import { createRouter } from '../validation.ts';

const MetricsBody = z
  .object({
    gateway: z.string(),
    route: z.string().optional(),
    windowMs: z.number(),
    requests: z.number(),
    rate: z.number().describe('requests per second over the window'),
    errors: z.number().describe('5xx responses'),
    errorRate: z.number().nullable().describe('0..1; null without requests'),
    latency: z
      .object({ avg: z.number().nullable(), p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() })
      .describe('milliseconds'),
    samples: z.number(),
    noData: z.boolean().describe('too few samples to judge: neither pass nor fail'),
  })
  .openapi('GatewayMetrics');

export interface MetricsRouteDeps {
  metrics: GatewayMetricsStore;
}

/** GET /gateways/{name}/metrics: the numbers `ctx.metrics.gateway()` returns. */
export function createMetricsRoutes(deps: MetricsRouteDeps) {
  const r = createRouter();
  r.openapi(
    createRoute({
      method: 'get',
      path: '/gateways/{name}/metrics',
      summary: 'Request rate, errors and latency of a gateway or one route',
      request: {
        params: z.object({ name: z.string().min(1).max(200) }),
        query: z.object({
          window: z
            .string()
            .regex(/^\d+(ms|s|m|h)$/, 'must be a duration like 30s, 5m or 1h')
            .default('1m'),
          route: z.string().min(1).max(200).optional(),
          minSamples: z.coerce.number().int().min(0).max(1_000_000).optional().describe('fewer requests than this is noData (default 10)'),
        }),
      },
      responses: { 200: { description: 'Metrics over the window ending now', content: { 'application/json': { schema: MetricsBody } } } },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const q = c.req.valid('query');
      const m = await deps.metrics.query(name, { route: q.route, windowMs: parseDuration(q.window, 'window'), minSamples: q.minSamples });
      return c.json(m, 200);
    },
  );
  return r;
}
