import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAlertmanager, type TestAlertmanager } from '../helpers/alertmanager-server.ts';
import { freePort } from '../helpers/free-port.ts';
import { startHttpBackend, type HttpBackend } from '../helpers/http-backends.ts';
import { runLoad, startLoad, type RunningLoad } from '../helpers/load.ts';
import { startPrometheus, type TestPrometheus } from '../helpers/prometheus-server.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';
import { serveApi } from './serve-api.ts';
import { cleanup, startE2eAgent, waitLive, type E2eAgent } from './support.ts';

/**
 * The whole alert path, every piece real (shared by test/e2e/alert-chain.test.ts and
 * `npm run bench -- alerts`): two HTTP backends behind a gateway served by the agent's HAProxy,
 * whose Prometheus exporter a real Prometheus finds through Veer's service-discovery endpoint
 * and scrapes every second; an alert rule on the canary route's 5xx ratio; a real Alertmanager
 * posting to Veer's webhook; the built-in rollback hook triggered by the alert; a notifier
 * posting `gateway.rolled_back` to a local receiver.
 */

export const GATEWAY = 'shop';
/** HAProxy's name for the canary route's backend (adapters/gateway-agent/render.ts): the exporter's `proxy` label. */
const CANARY_PROXY = `r.${GATEWAY}.canary`;
export const EVALUATION_INTERVAL_S = 1;
export const GROUP_WAIT_S = 1;
const RATIO = `sum(rate(haproxy_backend_http_responses_total{proxy="${CANARY_PROXY}",code="5xx"}[5s])) / sum(rate(haproxy_backend_http_responses_total{proxy="${CANARY_PROXY}"}[5s]))`;
const WAIT = { timeoutMs: 90_000, intervalMs: 20 };

export interface Delivery {
  at: number;
  type: string;
  id: string;
  body: any;
}

/** One alert, timed at each hop (epoch ms). */
export interface RoundTimes {
  /** The canary's first 500. */
  failing: number;
  /** Prometheus' `activeAt` of the alert (evaluation found the ratio over the threshold). */
  firing: number;
  /** First seen in Alertmanager's API (polled every 20 ms). */
  inAlertmanager: number;
  /** The `alert.firing` event appended in Veer (its stream id's time). */
  stored: number;
  /** The hook run started. */
  runStarted: number;
  /** `gateway.rolled_back` appended: the weights are at stable 100 in the KV store. */
  atStable: number;
  /** HAProxy serves stable only (the agent applied the revision; 20 probes all stable). */
  servedStable: number;
  /** The notifier's receiver got `gateway.rolled_back`. */
  notified: number;
}

export interface AlertChain {
  t: TestSystem;
  prometheus: TestPrometheus;
  alertmanager: TestAlertmanager;
  deliveries: Delivery[];
  /** Sets 70/30, waits until nothing fires, makes the canary fail, and times the way back to stable. */
  round(): Promise<RoundTimes>;
  stop(): Promise<void>;
}

const streamTime = (id: string) => Number(id.split('-')[0]);

export async function startAlertChain(): Promise<AlertChain> {
  const steps: Array<() => Promise<unknown>> = [];
  const stopAll = () => cleanup([...steps].reverse());
  try {
    const t = await startTestSystem({ engine: true });
    steps.push(() => t.stop());
    const calls = workflowCalls(() => t);
    const ok = (r: { status: number; body: unknown }, what: string) => {
      if (r.status < 200 || r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as any;
    };

    // Veer's API on a real port: Prometheus reads its service discovery, Alertmanager posts to its webhook.
    const api = await serveApi(t);
    steps.push(api.close);
    const apiUrl = api.url;

    // The notifier's receiver: records what arrives.
    const deliveries: Delivery[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        deliveries.push({ at: Date.now(), type: String(req.headers['x-veer-event-type']), id: String(req.headers['x-veer-delivery']), body: JSON.parse(body) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    steps.push(() => new Promise<void>((r) => receiver.close(() => r())));

    const stable: HttpBackend = await startHttpBackend('stable');
    steps.push(() => stable.close());
    let canaryFailing = false;
    let firstFailure = 0;
    const canary: HttpBackend = await startHttpBackend('canary', () => {
      if (!canaryFailing) return 200;
      firstFailure ||= Date.now();
      return 500;
    });
    steps.push(() => canary.close());

    const exporterPort = await freePort();
    const agent: E2eAgent = await startE2eAgent(t, { VEER_GATEWAY_AGENT_PROMETHEUS_PORT: String(exporterPort) });
    steps.push(() => agent.stop());
    const port = await freePort();
    ok(
      await t.call('PUT', `/api/v1/gateways/${GATEWAY}`, {
        port,
        routes: {
          stable: { weight: 100, targets: [{ host: '127.0.0.1', port: stable.port }] },
          canary: { weight: 0, targets: [{ host: '127.0.0.1', port: canary.port }] },
        },
      }),
      'gateway',
    );
    await waitLive(t, GATEWAY);
    const gatewayUrl = `http://127.0.0.1:${port}/`;

    const alertmanager = await startAlertmanager({ receiverUrl: `${apiUrl}/api/v1/webhooks/alertmanager` });
    steps.push(() => alertmanager.stop());
    const prometheus = await startPrometheus({
      scrapeConfigs: [
        {
          job_name: 'veer-sd',
          scrape_interval: '1s',
          scrape_timeout: '1s',
          http_sd_configs: [{ url: `${apiUrl}/api/v1/prometheus/targets`, refresh_interval: '1s' }],
        },
      ],
      rules: {
        groups: [
          {
            name: 'canary',
            interval: `${EVALUATION_INTERVAL_S}s`,
            rules: [
              {
                alert: 'CanaryErrors',
                expr: `${RATIO} > 0.1`,
                for: '0s',
                labels: { gateway: GATEWAY, severity: 'page' },
                annotations: { summary: 'canary 5xx ratio over 10 %' },
              },
            ],
          },
        ],
      },
      alertmanagerUrl: alertmanager.url,
    });
    steps.push(() => prometheus.stop());

    // The built-in hook, as the template has it, accepting Alertmanager's events; the notifier for rollbacks.
    const hookTpl = ok(await t.call('GET', '/api/v1/templates/rollback-hook'), 'template').workflow;
    await calls.put('rollback-hook', {
      ...hookTpl,
      trigger: { events: { tags: ['alerts', `gateways:${GATEWAY}`], type: 'alert.firing', sources: ['alertmanager'] } },
      env: { ...hookTpl.env, GATEWAY },
      permissions: { ...hookTpl.permissions, gateways: [GATEWAY] },
    });
    ok(
      await t.call('PUT', '/api/v1/notifiers/rollbacks', {
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
        events: { tags: [`gateways:${GATEWAY}`], types: ['gateway.rolled_back'] },
        format: 'json',
      }),
      'notifier',
    );

    // Traffic all along: Prometheus sees the ratio only while requests flow.
    const load: RunningLoad = startLoad({ url: gatewayUrl, concurrency: 2, keepAlive: true, maxMs: 60 * 60_000 });
    steps.push(() => load.stop());
    // Prometheus has found the exporter through Veer's SD once it has a sample of the canary backend.
    await waitFor(
      async () => {
        const r = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(`haproxy_backend_http_responses_total{proxy="${CANARY_PROXY}"}`)}`);
        return ((await r.json()) as any).data?.result?.length > 0;
      },
      { ...WAIT, intervalMs: 200, what: 'Prometheus to scrape the gateway exporter found through /api/v1/prometheus/targets' },
    );

    const firingAlerts = async () =>
      ((await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as any).data.alerts.filter((a: any) => a.labels.alertname === 'CanaryErrors');

    return {
      t,
      prometheus,
      alertmanager,
      deliveries,
      async round() {
        canaryFailing = false;
        firstFailure = 0;
        ok(await t.call('PUT', `/api/v1/gateways/${GATEWAY}/weights`, { stable: 70, canary: 30 }), 'weights 70/30');
        await waitLive(t, GATEWAY);
        // A previous round's alert must be gone in Prometheus and in Alertmanager, or this one would not be new.
        await waitFor(async () => (await firingAlerts()).length === 0, { ...WAIT, intervalMs: 200, what: 'no CanaryErrors alert in Prometheus' });
        await waitFor(async () => ((await (await fetch(`${alertmanager.url}/api/v2/alerts?active=true`)).json()) as any[]).length === 0, {
          ...WAIT,
          intervalMs: 200,
          what: 'no active alert in Alertmanager',
        });
        const since = Date.now();
        const seen = deliveries.length;
        canaryFailing = true;
        const inAlertmanager = await waitFor(
          async () => (((await (await fetch(`${alertmanager.url}/api/v2/alerts?active=true`)).json()) as any[]).length > 0 ? Date.now() : false),
          { ...WAIT, what: 'the alert in Alertmanager' },
        );
        const [alert] = await firingAlerts();
        const firing = Date.parse(alert?.activeAt ?? new Date(inAlertmanager).toISOString());
        const event = await waitFor(
          async () => (ok(await t.call('GET', `/api/v1/events?tag=alerts&type=alert.firing&since=${since}&limit=1`), 'events').events[0] as any) ?? false,
          { ...WAIT, what: 'the alert.firing event in Veer' },
        );
        const rolledBack = await waitFor(
          async () =>
            (ok(await t.call('GET', `/api/v1/events?tag=gateways:${GATEWAY}&type=gateway.rolled_back&since=${since}&limit=1`), 'events').events[0] as any) ??
            false,
          { ...WAIT, what: 'gateway.rolled_back' },
        );
        const run = ok(await t.call('GET', `/api/v1/runs/${rolledBack.value.runId}`), 'hook run');
        const servedStable = await waitFor(
          async () => {
            const r = await runLoad({ url: gatewayUrl, requests: 20, concurrency: 2, keepAlive: false });
            return Object.keys(r.counts).every((body) => body.includes('stable')) && r.failures === 0 ? Date.now() : false;
          },
          { ...WAIT, intervalMs: 0, what: 'HAProxy to serve stable only' },
        );
        canaryFailing = false;
        const delivered = await waitFor(() => deliveries.slice(seen).find((d) => d.type === 'gateway.rolled_back') ?? false, {
          ...WAIT,
          what: 'the notifier to deliver gateway.rolled_back',
        });
        return {
          failing: firstFailure,
          firing,
          inAlertmanager,
          stored: streamTime(event.id),
          runStarted: Date.parse(run.startedAt),
          atStable: streamTime(rolledBack.id),
          servedStable,
          notified: delivered.at,
        };
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
