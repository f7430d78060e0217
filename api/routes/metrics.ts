import { createRoute, z } from '@hono/zod-openapi';
import { resolveSeriesStep, type GatewayMetricsStore } from '../../engine/ports/metrics-store.ts';
import { VeerError } from '../../engine/shared/errors.ts';
import { parseDuration } from '../../engine/events/duration.ts';
import { errorResponse } from '../error-body.ts';
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

const Point = z
  .object({
    t: z.number().describe('bucket start, epoch ms'),
    requests: z.number(),
    errors: z.number().describe('5xx responses'),
    errorRate: z.number().nullable().describe('0..1; null without requests'),
    p50Ms: z.number().optional().describe('absent without requests'),
    p99Ms: z.number().optional(),
    rps: z.number().describe('requests per second over the bucket (its elapsed part when partial)'),
    noData: z.boolean().describe('no requests in the bucket: a zero point'),
    partial: z.literal(true).optional().describe('the bucket still open'),
  })
  .openapi('GatewayMetricsPoint');

const SeriesBody = z
  .object({
    gateway: z.string(),
    windowMs: z.number(),
    stepMs: z.number().describe('bucket width; new data appears once per step'),
    from: z.number().describe("first bucket's start, epoch ms"),
    nextAt: z.number().describe('epoch ms when the open bucket closes: poll then'),
    total: z.array(Point).optional().describe('the whole gateway (absent when ?route= is given)'),
    routes: z.array(z.object({ route: z.string(), points: z.array(Point) })),
  })
  .openapi('GatewayMetricsSeries');

const Duration = z.string().regex(/^\d+(ms|s|m|h)$/, 'must be a duration like 30s, 5m or 1h');

export interface MetricsRouteDeps {
  metrics: GatewayMetricsStore;
  /** The gateways (404 for an unknown one, and the routes of a chart); absent: any name, the total only. */
  gateways?: { get(name: string): Promise<{ routes: Record<string, unknown> }> };
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
  r.openapi(
    createRoute({
      method: 'get',
      path: '/gateways/{name}/metrics/series',
      summary: 'Per-step request rate, errors and latency of a gateway and each of its routes (charts)',
      request: {
        params: z.object({ name: z.string().min(1).max(200) }),
        query: z.object({
          window: Duration.default('15m'),
          step: Duration.optional().describe('bucket width, whole seconds; default: ≤ 120 points'),
          route: z.string().min(1).max(200).optional().describe('one route only; default: the gateway and every route'),
        }),
      },
      responses: {
        200: { description: 'Points per step over the window ending now', content: { 'application/json': { schema: SeriesBody } } },
        400: errorResponse('Bad window or step (the field is named)'),
        404: errorResponse('No such gateway'),
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const q = c.req.valid('query');
      const windowMs = parseDuration(q.window, 'window');
      const stepMs = resolveSeriesStep(windowMs, q.step === undefined ? undefined : parseDuration(q.step, 'step'));
      const gateway = deps.gateways ? await deps.gateways.get(name) : undefined;
      if (!deps.metrics.series) throw new VeerError('METRICS.INVALID', `the ${deps.metrics.kind} metrics store does not answer series`);
      const routes = q.route !== undefined ? [q.route] : Object.keys(gateway?.routes ?? {});
      return c.json(await deps.metrics.series(name, { windowMs, stepMs, routes, total: q.route === undefined }), 200);
    },
  );
  return r;
}
