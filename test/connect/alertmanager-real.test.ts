import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { startAlertmanager, type TestAlertmanager } from '../helpers/alertmanager-server.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

const WAIT = { timeoutMs: 30_000, intervalMs: 50 };
const ROOT = 'root-secret-0123456789';
const AM_TOKEN = 'alertmanager-secret-0123456789';
const HOOK = '/api/v1/webhooks/alertmanager';

/**
 * A real Alertmanager posting to a real Veer API on a loopback port, with its own bearer token
 * (VEER_ALERTMANAGER_TOKEN) while the API requires tokens. repeat_interval is 1 s here, so
 * Alertmanager re-sends the firing alert every second: those repeats must store nothing.
 */
describe('a real Alertmanager posting to Veer', () => {
  let t: TestSystem;
  let http: ServerType;
  let am: TestAlertmanager;

  before(async () => {
    t = await startTestSystem({ engine: false, env: { VEER_API_TOKENS: ROOT, VEER_ALERTMANAGER_TOKEN: AM_TOKEN } });
    http = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const receiverUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}${HOOK}`;
    am = await startAlertmanager({ receiverUrl, bearerToken: AM_TOKEN, route: { repeat_interval: '1s' } });
  });
  after(async () => {
    await am?.stop();
    if (http) {
      (http as unknown as { closeAllConnections(): void }).closeAllConnections();
      await new Promise((r) => http.close(r));
    }
    await t?.stop();
  });

  const asRoot = { authorization: `Bearer ${ROOT}` };
  const events = async (type: string): Promise<any[]> => {
    const res = await t.call('GET', `/api/v1/events?tag=gateways:shop&type=${type}&limit=1000`, undefined, asRoot);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.events;
  };
  /** Webhook posts Veer answered 200, as its audit stream recorded them. */
  const deliveries = async (): Promise<number> => {
    const res = await t.call('GET', '/api/v1/audit?actor=alertmanager&limit=1000', undefined, asRoot);
    return (res.body.entries as any[]).filter((e) => e.action === `POST ${HOOK}` && e.status === 200).length;
  };
  const postAlert = async (alert: Record<string, unknown>) => {
    const res = await fetch(`${am.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([alert]),
    });
    assert.equal(res.status, 200, await res.text());
  };

  it('stores alert.firing once despite repeats, then alert.resolved', async () => {
    const labels = { alertname: 'VeerRealCanaryErrors', gateway: 'shop', severity: 'page' };
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    await postAlert({ labels, annotations: { summary: 'canary 5xx' }, startsAt, endsAt: new Date(Date.now() + 3600_000).toISOString() });

    const [firing] = await waitFor(
      async () => {
        const found = await events('alert.firing');
        return found.length > 0 && found;
      },
      { ...WAIT, what: 'the alert.firing event' },
    );
    assert.equal(firing.source, 'alertmanager');
    for (const tag of ['alerts', 'alertname:VeerRealCanaryErrors', 'gateways:shop']) assert.ok(firing.tags.includes(tag), `${tag} in ${firing.tags}`);
    assert.deepEqual(firing.value.labels, labels);
    assert.equal(firing.value.annotations.summary, 'canary 5xx');
    assert.equal(firing.value.status, 'firing');
    assert.match(firing.value.fingerprint, /^[0-9a-f]{16}$/);
    assert.equal(Date.parse(firing.value.startsAt), Date.parse(startsAt));

    // Alertmanager re-sends the group (repeat_interval 1 s); Veer takes each post and stores nothing new.
    await waitFor(async () => (await deliveries()) >= 3, { ...WAIT, what: "Alertmanager's repeats of the firing alert" });
    assert.equal((await events('alert.firing')).length, 1, 'repeats stored no event');

    await postAlert({ labels, startsAt, endsAt: new Date(Date.now() - 1000).toISOString() });
    const [resolved] = await waitFor(
      async () => {
        const found = await events('alert.resolved');
        return found.length > 0 && found;
      },
      { ...WAIT, what: 'the alert.resolved event' },
    );
    assert.equal(resolved.value.status, 'resolved');
    assert.equal(resolved.value.fingerprint, firing.value.fingerprint);
    assert.ok(Date.parse(resolved.value.endsAt) < Date.now());
    assert.equal((await events('alert.firing')).length, 1);
  });
});
