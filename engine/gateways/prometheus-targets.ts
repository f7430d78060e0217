import { AGENTS_PREFIX, type AgentStatus } from '../domain/gateways/keys.ts';
import { isDeploymentTarget, type GatewayRecord } from '../domain/gateways/model.ts';
import type { KvStore } from '../ports/kv-store.ts';
import type { SchedulerDriver } from '../ports/scheduler.ts';
import { agentAlive } from './gateway-status.ts';

/** One entry of Prometheus' http_sd_config answer: scrape these `host:port`s, attach these labels. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

export interface PrometheusTargetSources {
  kv: KvStore;
  scheduler: Pick<SchedulerDriver, 'list'>;
  gateways: { list(): Promise<GatewayRecord[]> };
  /** Veer's own `host:port` (its /metrics); absent: not listed. */
  veer?: string;
  now: Date;
}

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * What Prometheus should scrape, as http_sd_config target groups (in this order):
 *
 *   job="veer-gateway-agent"  one group per live agent announcing an exporter; one agent's HAProxy
 *                             serves every gateway, so `gateways` is the comma list of those it
 *                             reports. Series carry `proxy="r.<gateway>.<route>"` per route.
 *   job="veer-deployment"     one group per deployment with ready endpoints (`deployment`); when
 *                             gateway routes target it (`{ deployment, port }`), `routes` lists
 *                             them as `<gateway>/<route>`, and with exactly one also `gateway`
 *                             and `route` (one group per deployment: a deployment behind several
 *                             routes is still scraped once).
 *   job="veer"                Veer's API (its /metrics).
 *
 * Agents that stopped heartbeating are left out, as are deployments without a ready endpoint.
 */
export async function prometheusTargets(o: PrometheusTargetSources): Promise<TargetGroup[]> {
  const [agents, deployments, gateways] = await Promise.all([o.kv.list(AGENTS_PREFIX), o.scheduler.list(), o.gateways.list()]);
  const groups: TargetGroup[] = [];

  const nowMs = o.now.getTime();
  const statuses: AgentStatus[] = [];
  for (const e of agents.entries) {
    try {
      statuses.push(JSON.parse(e.value) as AgentStatus);
    } catch {
      // An unreadable status key names no exporter.
    }
  }
  statuses.sort((a, b) => a.agentId.localeCompare(b.agentId));
  for (const s of statuses) {
    if (!s.exporter || !agentAlive(s, nowMs)) continue;
    const served = Object.keys(s.gateways ?? {}).sort();
    groups.push({ targets: [s.exporter], labels: { job: 'veer-gateway-agent', agent: s.agentId, gateways: served.join(',') } });
  }

  const routesOf = new Map<string, Array<{ gateway: string; route: string }>>();
  for (const g of gateways) {
    for (const [route, r] of Object.entries(g.routes)) {
      if (!isDeploymentTarget(r.targets)) continue;
      const list = routesOf.get(r.targets.deployment) ?? [];
      list.push({ gateway: g.name, route });
      routesOf.set(r.targets.deployment, list);
    }
  }
  for (const d of [...deployments].sort((a, b) => a.name.localeCompare(b.name))) {
    const targets = [...new Set(d.endpoints.filter((e) => e.ready).map((e) => hostPort(e.host, e.port)))];
    if (!targets.length) continue;
    const routes = routesOf.get(d.name) ?? [];
    const labels: Record<string, string> = { job: 'veer-deployment', deployment: d.name };
    if (routes.length === 1) Object.assign(labels, { gateway: routes[0].gateway, route: routes[0].route });
    if (routes.length) labels.routes = routes.map((r) => `${r.gateway}/${r.route}`).join(',');
    groups.push({ targets, labels });
  }

  if (o.veer) groups.push({ targets: [o.veer], labels: { job: 'veer' } });
  return groups;
}
