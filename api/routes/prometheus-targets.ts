import { createRoute, z } from '@hono/zod-openapi';
import { prometheusTargets, type PrometheusTargetSources } from '../../engine/gateways/prometheus-targets.ts';
import { errorResponse } from '../error-body.ts';
import { createRouter } from '../validation.ts';

const TargetGroupBody = z
  .object({
    targets: z.array(z.string()).describe('`host:port`s, scraped at /metrics'),
    labels: z.record(z.string(), z.string()).describe('`job` (veer-gateway-agent | veer-deployment | veer) and what the target belongs to'),
  })
  .openapi('PrometheusTargetGroup');

export interface PrometheusTargetRouteDeps extends Omit<PrometheusTargetSources, 'veer' | 'now'> {
  /** Where the API listens (core.api): Veer's own target when the request has no usable Host header. */
  api: { host: string; port: number };
  now?: () => Date;
}

/** `host` or `host:port` as a Host header may carry it; anything else is not used as a target. */
const HOST_HEADER = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

/** Veer's address as the client reached it (so it is right behind port mappings), else core.api. */
function veerAddress(host: string | undefined, api: { host: string; port: number }): string {
  if (host && HOST_HEADER.test(host)) return /:\d{1,5}$/.test(host) ? host : `${host}:80`;
  const h = api.host === '0.0.0.0' || api.host === '::' || api.host === '' ? '127.0.0.1' : api.host;
  return h.includes(':') ? `[${h}]:${api.port}` : `${h}:${api.port}`;
}

/**
 * Prometheus HTTP service discovery (http_sd_configs): everything of Veer's worth scraping,
 * labelled by what it is (engine/gateways/prometheus-targets.ts lists the groups and labels).
 */
export function createPrometheusTargetRoutes(deps: PrometheusTargetRouteDeps) {
  const r = createRouter();
  r.openapi(
    createRoute({
      method: 'get',
      path: '/prometheus/targets',
      summary: 'Scrape targets for Prometheus http_sd_configs: gateway agents’ HAProxy exporters, deployment instances, Veer itself',
      description:
        'The http_sd_config format: `[{ "targets": ["127.0.0.1:9101"], "labels": { "job": "veer-gateway-agent", … } }]`.\n\n' +
        '- `job: veer-gateway-agent`: one group per live agent with VEER_GATEWAY_AGENT_PROMETHEUS_PORT set; labels `agent` and `gateways` ' +
        '(comma list: one HAProxy serves them all). A route’s series carry `proxy="r.<gateway>.<route>"`.\n' +
        '- `job: veer-deployment`: one group per deployment with ready endpoints; label `deployment`, and `routes` ' +
        '(`<gateway>/<route>`, comma list) when gateway routes target it, with `gateway` and `route` when exactly one does.\n' +
        '- `job: veer`: this API (its /metrics), at the Host the request came to.\n\n' +
        'Needs scope `read` when tokens are configured, and Prometheus sends none unless told: give the job ' +
        '`http_sd_configs: [{ url: …/api/v1/prometheus/targets, authorization: { credentials: <token> } }]`. ' +
        'A failing store or scheduler answers an error, so Prometheus keeps the targets it had.',
      responses: {
        200: { description: 'Target groups', content: { 'application/json': { schema: z.array(TargetGroupBody) } } },
        503: errorResponse('The KV store or the scheduler is unreachable (Prometheus keeps its previous targets)'),
      },
    }),
    async (c) => {
      const groups = await prometheusTargets({
        kv: deps.kv,
        scheduler: deps.scheduler,
        gateways: deps.gateways,
        veer: veerAddress(c.req.header('host'), deps.api),
        now: deps.now?.() ?? new Date(),
      });
      return c.json(groups, 200);
    },
  );
  return r;
}
