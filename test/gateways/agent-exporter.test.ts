import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { agentKey, type AgentStatus } from '../../engine/domain/gateways/keys.ts';
import { loadGatewayAgentConfig } from '../../adapters/gateway-agent/config.ts';
import { freePort } from '../helpers/free-port.ts';
import { startHttpBackend, type HttpBackend } from '../helpers/http-backends.ts';
import { runLoad } from '../helpers/load.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startAgentSystem, type AgentSystem } from './agent-system.ts';
import { createMemoryKv } from './memory-kv.ts';

/**
 * HAProxy's built-in Prometheus exporter (VEER_GATEWAY_AGENT_PROMETHEUS_PORT), served by the agent's
 * real HAProxy: the series a canary query or an alert rule selects a route by
 * (`proxy="r.<gateway>.<route>"`), and the address the agent announces in `agents/<id>`.
 */

const kv = createMemoryKv();
let sys: AgentSystem;
let exporterPort: number;
let ok: HttpBackend;
let broken: HttpBackend;

before(async () => {
  ok = await startHttpBackend('ok');
  broken = await startHttpBackend('broken', () => 500);
  exporterPort = await freePort();
  sys = await startAgentSystem({ agentKv: kv, serviceKv: kv, agentId: 'exporter-agent', prometheusPort: exporterPort });
});

after(async () => {
  await sys?.stop();
  await ok?.close();
  await broken?.close();
  await kv.close();
});

/** `name{labels} value` lines of one metric, labels parsed. */
async function scrape(metric: string): Promise<Array<{ labels: Record<string, string>; value: number }>> {
  const res = await fetch(`http://127.0.0.1:${exporterPort}/metrics`);
  assert.equal(res.status, 200);
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of (await res.text()).split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== metric) continue;
    const labels = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

const fiveXx = async (proxy: string) =>
  (await scrape('haproxy_backend_http_responses_total')).find((s) => s.labels.proxy === proxy && s.labels.code === '5xx')?.value;

test('the exporter serves per-route backend series, and a failing route backend counts its 5xx', async () => {
  const port = await freePort();
  await sys.service.put('shop', {
    port,
    routes: {
      stable: { weight: 50, targets: [{ host: '127.0.0.1', port: ok.port }] },
      canary: { weight: 50, targets: [{ host: '127.0.0.1', port: broken.port }] },
    },
  });
  await sys.live('shop');

  const proxies = new Set((await scrape('haproxy_backend_http_responses_total')).map((s) => s.labels.proxy));
  for (const p of ['r.shop.stable', 'r.shop.canary', 'w.shop']) assert.ok(proxies.has(p), `series for proxy ${p} (got ${[...proxies].join(', ')})`);
  const before = (await fiveXx('r.shop.canary')) ?? 0;
  const stableBefore = (await fiveXx('r.shop.stable')) ?? 0;

  const r = await runLoad({ url: `http://127.0.0.1:${port}/`, requests: 40, concurrency: 2 });
  const failed = r.statuses[500] ?? 0;
  assert.ok(failed > 0, `some requests reached the failing canary: ${JSON.stringify(r.statuses)}`);
  await waitFor(async () => (await fiveXx('r.shop.canary')) === before + failed, { what: `the canary backend's 5xx counter to grow by ${failed}` });
  assert.equal(await fiveXx('r.shop.stable'), stableBefore, 'the healthy route counts no 5xx');
  // What the canary workflow's default latency query reads.
  const rtime = (await scrape('haproxy_backend_response_time_average_seconds')).map((x) => x.labels.proxy);
  assert.ok(rtime.includes('r.shop.canary') && rtime.includes('r.shop.stable'), `response time series per route backend: ${rtime.join(', ')}`);

  const other = await fetch(`http://127.0.0.1:${exporterPort}/stats`);
  assert.equal(other.status, 404, 'only /metrics is served on the exporter port');
});

test('the agent announces its exporter in its status key', async () => {
  await sys.agent.idle();
  assert.equal(sys.agent.status().exporter, `127.0.0.1:${exporterPort}`);
  const stored = JSON.parse((await kv.get(agentKey('exporter-agent')))!.value) as AgentStatus;
  assert.equal(stored.exporter, `127.0.0.1:${exporterPort}`);
});

test('VEER_GATEWAY_AGENT_PROMETHEUS_PORT is off by default and binds loopback only', () => {
  const base = { VEER_GATEWAY_AGENT_DIR: '/tmp/gw-x' };
  assert.equal(loadGatewayAgentConfig(base).prometheus, undefined);
  assert.equal(loadGatewayAgentConfig({ ...base, VEER_GATEWAY_AGENT_PROMETHEUS_PORT: '0' }).prometheus, undefined);
  assert.deepEqual(loadGatewayAgentConfig({ ...base, VEER_GATEWAY_AGENT_PROMETHEUS_PORT: '9101' }).prometheus, { host: '127.0.0.1', port: 9101 });
  assert.throws(
    () => loadGatewayAgentConfig({ ...base, VEER_GATEWAY_AGENT_PROMETHEUS_PORT: '9101', VEER_GATEWAY_AGENT_PROMETHEUS_HOST: '0.0.0.0' }),
    /VEER_GATEWAY_AGENT_PROMETHEUS_HOST/,
  );
});
