import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { agentKey, type AgentStatus } from '../../engine/domain/gateways/keys.ts';
import { freePort } from '../helpers/free-port.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * GET /api/v1/prometheus/targets: Prometheus' http_sd_config answer over a real Veer (Redis
 * KV, local scheduler running real instance processes). Agents are written to `agents/<id>`
 * as the agent's status reporter writes them; test/e2e/alert-chain.test.ts has a real
 * Prometheus discover a real agent's exporter through this route.
 */

const fixture = fileURLToPath(new URL('../scheduler/fixtures/http-instance.mjs', import.meta.url));
const API_PORT = 18_080;
let t: TestSystem;

const agentStatus = (agentId: string, o: Partial<AgentStatus> = {}): AgentStatus => ({
  agentId,
  heartbeatAt: new Date().toISOString(),
  heartbeatIntervalMs: 5000,
  startedAt: new Date().toISOString(),
  kv: { kind: 'redis', connected: true },
  haproxy: { running: true, reloads: 1 },
  gateways: {},
  ...o,
});

before(async () => {
  t = await startTestSystem({ engine: true, env: { VEER_SCHEDULER: 'local', VEER_LOCAL_HEALTH_INTERVAL_MS: '200', VEER_API_PORT: String(API_PORT) } });
});
after(async () => {
  await t?.call('DELETE', '/api/v1/deployments/shop-v2');
  await t?.stop();
});

describe('GET /api/v1/prometheus/targets', () => {
  test('lists agents’ exporters, ready deployment instances with their gateway route, and Veer itself', async () => {
    const kv = t.system.kv;
    await kv.put(
      agentKey('edge-1'),
      JSON.stringify(agentStatus('edge-1', { exporter: '127.0.0.1:9101', gateways: { shop: { appliedRevision: '3' }, blog: {} } })),
    );
    // Alive but without an exporter, and one that stopped heartbeating: neither is listed.
    await kv.put(agentKey('edge-2'), JSON.stringify(agentStatus('edge-2')));
    await kv.put(
      agentKey('edge-3'),
      JSON.stringify(agentStatus('edge-3', { exporter: '127.0.0.1:9102', heartbeatAt: new Date(Date.now() - 60_000).toISOString() })),
    );

    const def = await t.call('PUT', '/api/v1/deployments/shop-v2', { command: process.execPath, args: [fixture], instances: 2, healthCheck: '/health' });
    assert.ok(def.status === 200 || def.status === 202, JSON.stringify(def.body));
    const ready = await waitFor(
      async () => {
        const d = (await t.call('GET', '/api/v1/deployments/shop-v2')).body;
        return d.readyInstances === 2 && d.endpoints.filter((e: { ready: boolean }) => e.ready).length === 2 && d;
      },
      { timeoutMs: 30_000, what: 'two ready instances' },
    );
    const port = await freePort();
    const gw = await t.call('PUT', '/api/v1/gateways/shop', {
      port,
      routes: { stable: { weight: 100, targets: [{ host: '127.0.0.1', port: 1 }] }, canary: { weight: 0, targets: { deployment: 'shop-v2', port: 'http' } } },
    });
    assert.ok(gw.status === 200 || gw.status === 201, JSON.stringify(gw.body));

    const res = await t.app.request('/api/v1/prometheus/targets', { headers: { host: '127.0.0.1:18081' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const groups = (await res.json()) as Array<{ targets: string[]; labels: Record<string, string> }>;
    const expectedInstances = ready.endpoints.map((e: { host: string; port: number }) => `${e.host}:${e.port}`).sort();
    assert.deepEqual(
      groups.map((g) => (g.labels.job === 'veer-deployment' ? { ...g, targets: [...g.targets].sort() } : g)),
      [
        { targets: ['127.0.0.1:9101'], labels: { job: 'veer-gateway-agent', agent: 'edge-1', gateways: 'blog,shop' } },
        { targets: expectedInstances, labels: { job: 'veer-deployment', deployment: 'shop-v2', gateway: 'shop', route: 'canary', routes: 'shop/canary' } },
        { targets: ['127.0.0.1:18081'], labels: { job: 'veer' } },
      ],
    );
  });

  test('without a Host header, Veer’s own target is the configured API address', async () => {
    const { status, body } = await t.call('GET', '/api/v1/prometheus/targets');
    assert.equal(status, 200);
    assert.deepEqual(
      body.find((g: { labels: { job: string } }) => g.labels.job === 'veer'),
      { targets: [`127.0.0.1:${API_PORT}`], labels: { job: 'veer' } },
    );
  });

  test('is in the OpenAPI document', async () => {
    const { body } = await t.call('GET', '/api/v1/openapi.json');
    assert.ok(body.paths['/api/v1/prometheus/targets']?.get, Object.keys(body.paths).join(', '));
  });
});

test('with tokens configured, discovery needs a token with the read scope', async () => {
  const secured = await startTestSystem({ engine: false, redis: t.redis, env: { VEER_API_TOKENS: 'prom-token' } });
  try {
    assert.equal((await secured.call('GET', '/api/v1/prometheus/targets')).status, 401);
    const ok = await secured.call('GET', '/api/v1/prometheus/targets', undefined, { authorization: 'Bearer prom-token' });
    assert.equal(ok.status, 200);
    assert.ok(Array.isArray(ok.body));
  } finally {
    await secured.stop();
  }
});
