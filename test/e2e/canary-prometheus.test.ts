import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort } from '../helpers/free-port.ts';
import { startHttpBackend, type HttpBackend } from '../helpers/http-backends.ts';
import { startLoad, type RunningLoad } from '../helpers/load.ts';
import { startPrometheus, type TestPrometheus } from '../helpers/prometheus-server.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';
import { serveApi } from './serve-api.ts';
import { cleanup, startE2eAgent, waitLive, type E2eAgent } from './support.ts';

/**
 * Prometheus as the canary's analysis source, every piece real: HAProxy's exporter on the agent,
 * found by a real Prometheus through GET /api/v1/prometheus/targets and scraped every second; a
 * script's ctx.metrics.prometheus sees the canary's real 5xx ratio; and the built-in
 * canary-release template with ANALYSIS "prometheus" rolls back on it, the rollback event naming
 * the queries it sent.
 */
const YEARLY = { cron: '0 0 0 1 1 *', timezone: 'UTC' };
const WAIT = { timeoutMs: 90_000, intervalMs: 200 };

test('ctx.metrics.prometheus sees the canary 5xx ratio HAProxy exports, and the canary release rolls back on it', async () => {
  const steps: Array<(() => Promise<unknown>) | undefined> = [];
  try {
    // The API Prometheus discovers targets from; the engine (which needs Prometheus' URL) starts once it runs.
    const api: TestSystem = await startTestSystem({ engine: false });
    steps.push(() => api.stop());
    const served = await serveApi(api);
    steps.push(served.close);
    const stable: HttpBackend = await startHttpBackend('stable');
    steps.push(() => stable.close());
    let failing = false;
    const canary: HttpBackend = await startHttpBackend('canary', () => (failing ? 500 : 200));
    steps.push(() => canary.close());
    const agent: E2eAgent = await startE2eAgent(api, { VEER_GATEWAY_AGENT_PROMETHEUS_PORT: String(await freePort()) });
    steps.push(() => agent.stop());
    const port = await freePort();
    const put = await api.call('PUT', '/api/v1/gateways/shop', {
      port,
      routes: {
        stable: { weight: 100, targets: [{ host: '127.0.0.1', port: stable.port }] },
        canary: { weight: 0, targets: [{ host: '127.0.0.1', port: canary.port }] },
      },
    });
    assert.ok(put.status === 200 || put.status === 201, JSON.stringify(put.body));
    await waitLive(api, 'shop');
    const prometheus: TestPrometheus = await startPrometheus({
      scrapeConfigs: [
        {
          job_name: 'veer-sd',
          scrape_interval: '1s',
          scrape_timeout: '1s',
          http_sd_configs: [{ url: `${served.url}/api/v1/prometheus/targets`, refresh_interval: '1s' }],
        },
      ],
    });
    steps.push(() => prometheus.stop());
    const t: TestSystem = await startTestSystem({ redis: api.redis, env: { ...api.env, VEER_PROMETHEUS_URL: prometheus.url } });
    steps.push(() => t.stop());
    const calls = workflowCalls(() => t);

    const load: RunningLoad = startLoad({ url: `http://127.0.0.1:${port}/`, concurrency: 2, keepAlive: true, maxMs: 10 * 60_000 });
    steps.push(() => load.stop());

    // The release's first step moves 30 % to the canary (healthy so far), analysed from Prometheus.
    const template = (await t.call('GET', '/api/v1/templates/canary-release')).body.workflow;
    await calls.put('shop-canary', {
      ...template,
      trigger: YEARLY,
      env: {
        ...template.env,
        GATEWAY: 'shop',
        CANARY_DEPLOYMENT: null,
        RELEASE: 'v2',
        STEPS: '[30, 100]',
        ANALYSIS: 'prometheus',
        WINDOW: '10s',
        MIN_SAMPLES: 5,
        FAILURE_LIMIT: 1,
      },
      permissions: { gateways: ['shop'], deployments: {} },
    });
    const first = await calls.run('shop-canary');
    assert.equal(first.status, 'succeeded', JSON.stringify(first.error));
    await waitLive(t, 'shop');

    failing = true;
    // A script of its own reads the ratio HAProxy exported and Prometheus scraped.
    const ratio =
      'sum(rate(haproxy_backend_http_responses_total{proxy="r.shop.canary",code="5xx"}[5s])) / sum(rate(haproxy_backend_http_responses_total{proxy="r.shop.canary"}[5s]))';
    await calls.put('probe', { script: `export default async (ctx) => ctx.metrics.prometheus(${JSON.stringify(ratio)})` });
    const seen = await waitFor(
      async () => {
        const r = await calls.run('probe');
        assert.equal(r.status, 'succeeded', JSON.stringify(r.error));
        return !r.result.noData && r.result.value > 0.5 && r.result;
      },
      { ...WAIT, what: "a script's Prometheus query to see the canary failing" },
    );
    assert.equal(seen.query, ratio);
    assert.equal(seen.series.length, 1);

    // The release's next check reads the same numbers and rolls back.
    const rolledBack = await waitFor(
      async () => {
        const r = await calls.run('shop-canary');
        assert.equal(r.status, 'succeeded', JSON.stringify(r.error));
        return r.result.action === 'rolled_back' && r;
      },
      { ...WAIT, what: 'the canary release to roll back on the Prometheus numbers' },
    );
    const gateway = (await t.call('GET', '/api/v1/gateways/shop')).body;
    assert.deepEqual({ stable: gateway.routes.stable.weight, canary: gateway.routes.canary.weight }, { stable: 100, canary: 0 });
    const [event] = (await t.call('GET', '/api/v1/events?tag=canary:shop&type=canary.rolled_back&limit=1')).body.events;
    assert.ok(event, `a canary.rolled_back event (run ${rolledBack.id})`);
    assert.equal(event.value.analysis, 'prometheus', JSON.stringify(event.value));
    assert.match(JSON.stringify(event.value), /r\.shop\.canary/, 'the evidence names the queries sent, placeholders filled in');
  } finally {
    await cleanup(steps.reverse());
  }
});
