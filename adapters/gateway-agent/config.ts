import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseEnv } from '../../engine/shared/env.ts';
import { VeerError } from '../../engine/shared/errors.ts';

/**
 * Gateway agent settings (read by adapters/gateway-agent/main.ts only). The KV store comes
 * from the KV section (VEER_KV, VEER_KV_URL, VEER_KV_PREFIX, …; adapters/kv/config.ts).
 *
 *   VEER_GATEWAY_AGENT_ID             agent id in `agents/<id>`            default: host name
 *   VEER_HAPROXY_BIN                  HAProxy binary                      default: haproxy
 *   VEER_GATEWAY_AGENT_DIR            haproxy.cfg, sockets, pid, state    default: .veer/haproxy
 *   VEER_GATEWAY_AGENT_BIND           address gateway ports bind to       default: 127.0.0.1
 *   VEER_GATEWAY_AGENT_STATS_PORT     stats page /stats, health /health   default: 1988
 *   VEER_GATEWAY_AGENT_LOG_PORT       UDP port for HAProxy logs (0: any free one) default: 0
 *   VEER_GATEWAY_AGENT_HEARTBEAT_MS   status write interval              default: 5000
 *   VEER_GATEWAY_AGENT_HARD_STOP_AFTER  longest drain of old HAProxy processes after a reload, default: 30s
 *   VEER_GATEWAY_AGENT_DRAIN_TIMEOUT_MS  longest wait for a route server removed at runtime to finish its connections (then: reload), default: 10000
 *   VEER_GATEWAY_AGENT_STOP_HAPROXY   stop HAProxy on exit: auto (if the agent started it) | true | false
 *   VEER_GATEWAY_AGENT_PROMETHEUS_PORT        HAProxy's Prometheus exporter, GET /metrics (0 or unset: off) default: off
 *   VEER_GATEWAY_AGENT_PROMETHEUS_HOST        its address, a 127.x.x.x loopback one   default: 127.0.0.1
 *
 * The exporter answers anyone who can connect and names every gateway, route and server, so
 * it binds loopback only; a Prometheus elsewhere scrapes it through a proxy of its own.
 */
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

export const GatewayAgentEnvSchema = z.object({
  VEER_GATEWAY_AGENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'letters, digits, dots, dashes, underscores')
    .optional(),
  VEER_HAPROXY_BIN: z.string().min(1).default('haproxy'),
  VEER_GATEWAY_AGENT_DIR: z.string().min(1).default('.veer/haproxy'),
  VEER_GATEWAY_AGENT_BIND: z
    .string()
    .regex(/^[0-9a-fA-F.:]+$|^\*$/, 'an IP address')
    .default('127.0.0.1'),
  VEER_GATEWAY_AGENT_STATS_PORT: z.coerce.number().int().min(1).max(65535).default(1988),
  VEER_GATEWAY_AGENT_LOG_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  VEER_GATEWAY_AGENT_HEARTBEAT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  VEER_GATEWAY_AGENT_HARD_STOP_AFTER: z
    .string()
    .regex(/^\d+(ms|s|m|h)$/, 'a duration like 30s')
    .default('30s'),
  VEER_GATEWAY_AGENT_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  VEER_GATEWAY_AGENT_STOP_HAPROXY: z.union([z.literal('auto'), bool]).default('auto'),
  VEER_GATEWAY_AGENT_PROMETHEUS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  VEER_GATEWAY_AGENT_PROMETHEUS_HOST: z
    .string()
    .regex(/^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/, 'a loopback IPv4 address (127.x.x.x)')
    .default('127.0.0.1'),
});

export interface GatewayAgentConfig {
  agentId: string;
  haproxyBin: string;
  dir: string;
  bindAddress: string;
  statsPort: number;
  logPort: number;
  heartbeatMs: number;
  hardStopAfter: string;
  drainTimeoutMs: number;
  stopHaproxy: boolean | 'auto';
  /** HAProxy's Prometheus exporter; absent: off. */
  prometheus?: { host: string; port: number };
}

export function loadGatewayAgentConfig(env: Record<string, string | undefined>, cwd = process.cwd()): GatewayAgentConfig {
  const e = parseEnv(GatewayAgentEnvSchema, env);
  const dir = resolve(cwd, e.VEER_GATEWAY_AGENT_DIR);
  // Route sockets live at <dir>/r/<16 hex>.sock and unix socket paths max out at 107 bytes.
  if (dir.length > 70)
    throw new VeerError('CONFIG', `VEER_GATEWAY_AGENT_DIR: '${dir}' is too long for unix socket paths (max 70 characters); choose a shorter directory`);
  return {
    agentId: e.VEER_GATEWAY_AGENT_ID ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-'),
    haproxyBin: e.VEER_HAPROXY_BIN,
    dir,
    bindAddress: e.VEER_GATEWAY_AGENT_BIND,
    statsPort: e.VEER_GATEWAY_AGENT_STATS_PORT,
    logPort: e.VEER_GATEWAY_AGENT_LOG_PORT,
    heartbeatMs: e.VEER_GATEWAY_AGENT_HEARTBEAT_MS,
    hardStopAfter: e.VEER_GATEWAY_AGENT_HARD_STOP_AFTER,
    drainTimeoutMs: e.VEER_GATEWAY_AGENT_DRAIN_TIMEOUT_MS,
    stopHaproxy: e.VEER_GATEWAY_AGENT_STOP_HAPROXY,
    ...(e.VEER_GATEWAY_AGENT_PROMETHEUS_PORT ? { prometheus: { host: e.VEER_GATEWAY_AGENT_PROMETHEUS_HOST, port: e.VEER_GATEWAY_AGENT_PROMETHEUS_PORT } } : {}),
  };
}
