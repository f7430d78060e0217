import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startAlertChain, type AlertChain } from './alert-chain.ts';

/**
 * The end-to-end path, all real: a Prometheus alert rule on the canary route's 5xx ratio
 * (scraped from HAProxy's exporter, found through Veer's service discovery) fires → Alertmanager →
 * POST /api/v1/webhooks/alertmanager → an `alert.firing` event → the built-in rollback hook runs →
 * HAProxy serves stable 100 % → a notifier posts `gateway.rolled_back` to a local receiver. Each
 * hop's time is printed (the bench, `npm run bench -- alerts`, repeats it for p50/p99).
 */
test('a Prometheus alert on the canary 5xx ratio rolls the gateway back and a notifier reports it', async () => {
  let chain: AlertChain | undefined;
  try {
    chain = await startAlertChain();
    const r = await chain.round();
    const hops = {
      'canary failing → Prometheus firing': r.firing - r.failing,
      'Prometheus firing → in Alertmanager': r.inAlertmanager - r.firing,
      'Alertmanager → event stored in Veer': r.stored - r.inAlertmanager,
      'event stored → hook run started': r.runStarted - r.stored,
      'run started → weights at stable (KV)': r.atStable - r.runStarted,
      'weights at stable → HAProxy serves stable only': r.servedStable - r.atStable,
      'weights at stable → notifier delivered': r.notified - r.atStable,
    };
    console.log(
      Object.entries(hops)
        .map(([k, v]) => `${k}: ${v} ms`)
        .join('\n'),
    );
    // Order, not speed: every hop happened after the one before it.
    assert.ok(r.failing > 0 && r.firing >= r.failing - 1000, JSON.stringify(r));
    assert.ok(r.stored >= r.firing && r.runStarted >= r.stored && r.atStable >= r.runStarted && r.notified >= r.atStable, JSON.stringify(r));

    const { t } = chain;
    const gateway = (await t.call('GET', '/api/v1/gateways/shop')).body;
    assert.deepEqual({ stable: gateway.routes.stable.weight, canary: gateway.routes.canary.weight }, { stable: 100, canary: 0 });
    const [event] = (await t.call('GET', '/api/v1/events?tag=alertname:CanaryErrors&type=alert.firing&limit=10')).body.events;
    assert.equal(event.source, 'alertmanager');
    assert.ok(event.tags.includes('gateways:shop') && event.tags.includes('alerts'), JSON.stringify(event.tags));
    assert.equal(event.value.labels.severity, 'page');
    assert.equal(event.value.annotations.summary, 'canary 5xx ratio over 10 %');
    const delivered = chain.deliveries.find((d) => d.type === 'gateway.rolled_back');
    assert.ok(delivered, 'the notifier delivered the rollback');
    assert.equal(delivered.body.event.type, 'gateway.rolled_back');
    assert.deepEqual(delivered.body.event.value.after, { stable: 100, canary: 0 });
    assert.equal(delivered.body.event.value.cause, event.id, 'the rollback names the alert event that caused it');
  } finally {
    await chain?.stop();
  }
});
