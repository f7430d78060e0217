import { routeBackendName, routeServers, type RenderableGateway, type RouteServer } from './render.ts';

/**
 * Which servers of a gateway's route backends (`r.<gw>.<route>`) come and go between two
 * renderings, and whether HAProxy 2.6 can apply that through its runtime API (dynamic
 * servers, management.txt "add server") instead of a reload.
 */

/** Balance algorithms HAProxy calls dynamic; only their backends accept `add server`. */
const DYNAMIC_BALANCE = new Set(['roundrobin', 'leastconn', 'first', 'random']);

/**
 * Server keywords HAProxy 2.6 accepts on `add server` (the subset the renderer can write).
 * Notably not `cookie` (sticky instance needs a reload) and not `init-addr`: a dynamic server
 * is always `init-addr none`, which is why only IP addresses are added at runtime.
 */
const DYNAMIC_KEYWORDS = new Set([
  'check',
  'inter',
  'fastinter',
  'downinter',
  'rise',
  'fall',
  'weight',
  'maxconn',
  'maxqueue',
  'minconn',
  'slowstart',
  'send-proxy',
  'send-proxy-v2',
  'observe',
  'on-error',
  'on-marked-down',
  'on-marked-up',
  'error-limit',
  'backup',
]);

/** What a config server gets by default and a dynamic one does not (its purge delay defaults to 0: no reuse). */
const DYNAMIC_POOL_DEFAULTS = ['pool-max-conn -1', 'pool-purge-delay 5s'];

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export interface ServerToAdd {
  backend: string;
  name: string;
  /** `host:port` */
  address: string;
  /** The renderer's keywords for this server, minus `init-addr` (implied), plus config-server pool defaults. */
  options: string[];
}

export interface ServerToRemove {
  backend: string;
  name: string;
  host: string;
  port: number;
}

export interface ServerChanges {
  add: ServerToAdd[];
  remove: ServerToRemove[];
}

/**
 * The servers to add and remove, or the reason HAProxy cannot do it at runtime (the caller
 * then reloads). Assumes both renderings have the same skeleton (renderSkeleton).
 */
export function planServerChanges(before: RenderableGateway, after: RenderableGateway): ServerChanges | string {
  const changes: ServerChanges = { add: [], remove: [] };
  const g = after.gateway;
  for (const [route, spec] of Object.entries(g.routes)) {
    const backend = routeBackendName(g.name, route);
    const old = new Map(routeServers(before, route).map((s) => [s.name, s]));
    const next = routeServers(after, route);
    const added = next.filter((s) => !old.has(s.name));
    const kept = new Set(next.map((s) => s.name));
    const removed = [...old.values()].filter((s) => !kept.has(s.name));
    if (!added.length && !removed.length) continue;
    const balance = spec.balance ?? (g.mode === 'http' ? 'roundrobin' : 'leastconn');
    if (!DYNAMIC_BALANCE.has(balance)) return `${backend}: balance ${balance} does not allow servers to be added or removed at runtime`;
    for (const s of added) {
      const why = runtimeOptions(s);
      if (typeof why === 'string') return `${backend}/${s.name}: ${why}`;
      changes.add.push({ backend, name: s.name, address: `${s.host}:${s.port}`, options: why });
    }
    for (const s of removed) changes.remove.push({ backend, name: s.name, host: s.host, port: s.port });
  }
  return changes;
}

function runtimeOptions(s: RouteServer): string[] | string {
  if (!IPV4.test(s.host)) return `host ${s.host} is not an IP address (dynamic servers are not resolved)`;
  const options = s.options.filter((o) => !o.startsWith('init-addr '));
  const unsupported = options.map((o) => o.split(' ')[0]).filter((k) => !DYNAMIC_KEYWORDS.has(k));
  if (unsupported.length) return `HAProxy does not accept '${unsupported.join("', '")}' on dynamic servers`;
  // 2.6 dynamic servers keep no idle connections unless told to: pool like a config server.
  return [...options, ...DYNAMIC_POOL_DEFAULTS];
}
