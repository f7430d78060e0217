import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

const HOOK = '/api/v1/webhooks/alertmanager';
const STARTS = '2026-01-10T08:00:00.123456789Z';

/** An alert as Alertmanager's webhook sends it. */
function alert(over: Record<string, unknown> = {}) {
  return {
    status: 'firing',
    labels: { alertname: 'CanaryErrors', gateway: 'shop', deployment: 'shop-canary', severity: 'page' },
    annotations: { summary: 'canary 5xx above 5%' },
    startsAt: STARTS,
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=up',
    fingerprint: 'c0ffee0123456789',
    ...over,
  };
}

/** Alertmanager's version 4 payload around `alerts`. */
function payload(alerts: unknown[], over: Record<string, unknown> = {}) {
  return {
    version: '4',
    groupKey: '{}:{alertname="CanaryErrors"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'veer',
    groupLabels: { alertname: 'CanaryErrors' },
    commonLabels: { alertname: 'CanaryErrors' },
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts,
    ...over,
  };
}

describe('POST /api/v1/webhooks/alertmanager', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ env: { VEER_EVENTS_TRIGGER_REFRESH_MS: '100' } });
  });
  after(async () => {
    await t?.stop();
  });
  const { put, runsOf } = workflowCalls(() => t);
  const alertEvents = async (fingerprint: string) =>
    ((await t.call('GET', '/api/v1/events?tag=alerts&order=asc&limit=1000')).body.events as any[]).filter((e) => e.value.fingerprint === fingerprint);

  it('stores one event per alert, typed by its own status, tagged from its labels, and starts a run triggered by source alertmanager', async () => {
    await put('on-alert', {
      script: 'export default async function (ctx) { return { type: ctx.input.type, source: ctx.input.source } }',
      trigger: { events: { tags: ['alerts', 'gateways:shop'], sources: ['alertmanager'] } },
      overlap: 'allow',
    });
    const other = alert({ fingerprint: 'feed000000000001', status: 'resolved', labels: { alertname: 'Other alert name' }, endsAt: '2026-01-10T08:05:00Z' });
    const res = await t.call('POST', HOOK, payload([alert(), other]));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.stored, 2);
    assert.equal(res.body.duplicates, 0);
    assert.equal(res.body.events.length, 2);

    const [firing] = await alertEvents('c0ffee0123456789');
    assert.equal(firing.id, res.body.events[0]);
    assert.equal(firing.type, 'alert.firing');
    assert.equal(firing.source, 'alertmanager');
    for (const tag of ['alerts', 'alertname:CanaryErrors', 'gateways:shop', 'deployments:shop-canary'])
      assert.ok(firing.tags.includes(tag), `${tag} in ${firing.tags}`);
    assert.deepEqual(firing.value, {
      labels: { alertname: 'CanaryErrors', gateway: 'shop', deployment: 'shop-canary', severity: 'page' },
      annotations: { summary: 'canary 5xx above 5%' },
      startsAt: STARTS,
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: 'c0ffee0123456789',
      status: 'firing',
      generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=up',
    });

    // The payload says `firing`, this alert `resolved`: its own status wins. A name with a space is no tag.
    const [resolved] = await alertEvents('feed000000000001');
    assert.equal(resolved.type, 'alert.resolved');
    assert.deepEqual(resolved.tags, ['alerts']);
    assert.equal(resolved.value.labels.alertname, 'Other alert name');

    const run = await waitFor(async () => (await runsOf('on-alert')).find((r) => r.status === 'succeeded'), { timeoutMs: 30_000, what: 'the alert run' });
    assert.deepEqual(run.result, { type: 'alert.firing', source: 'alertmanager' });
  });

  it("stores nothing for Alertmanager's repeat of an alert in the same state", async () => {
    const first = await t.call('POST', HOOK, payload([alert({ fingerprint: 'aaaa000000000001' })]));
    assert.equal(first.body.stored, 1);
    const again = await t.call('POST', HOOK, payload([alert({ fingerprint: 'aaaa000000000001' })]));
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { stored: 0, duplicates: 1, events: [] });
    assert.equal((await alertEvents('aaaa000000000001')).length, 1);
  });

  it('stores alert.resolved when a firing alert resolves, and a new firing when it fires again', async () => {
    const fp = 'bbbb000000000001';
    assert.equal((await t.call('POST', HOOK, payload([alert({ fingerprint: fp })]))).body.stored, 1);
    const resolved = await t.call(
      'POST',
      HOOK,
      payload([alert({ fingerprint: fp, status: 'resolved', endsAt: '2026-01-10T08:10:00Z' })], { status: 'resolved' }),
    );
    assert.equal(resolved.body.stored, 1);
    assert.equal((await t.call('POST', HOOK, payload([alert({ fingerprint: fp, status: 'resolved', endsAt: '2026-01-10T08:10:00Z' })]))).body.duplicates, 1);
    const refired = await t.call('POST', HOOK, payload([alert({ fingerprint: fp, startsAt: '2026-01-10T09:00:00Z' })]));
    assert.equal(refired.body.stored, 1, 'a new startsAt is a new firing');
    assert.deepEqual(
      (await alertEvents(fp)).map((e) => e.type),
      ['alert.firing', 'alert.resolved', 'alert.firing'],
    );
  });

  it('refuses a malformed payload with 400 VALIDATION naming the field, storing nothing of it', async () => {
    const cases: Array<[unknown, string]> = [
      [payload([alert({ fingerprint: 'cccc000000000001' }), alert({ fingerprint: undefined })]), 'alerts.1.fingerprint'],
      [payload([alert({ fingerprint: 'cccc000000000001', status: 'pending' })]), 'alerts.0.status'],
      [payload([alert({ fingerprint: 'cccc000000000001', startsAt: 'yesterday' })]), 'alerts.0.startsAt'],
      [payload([alert({ fingerprint: 'cccc000000000001', labels: { alertname: 42 } })]), 'alerts.0.labels.alertname'],
      [payload([alert({ fingerprint: 'cccc000000000001' })], { version: '3' }), 'version'],
      [payload([alert({ fingerprint: 'cccc000000000001', annotations: { big: 'x'.repeat(20_000) } })]), 'alerts.0.annotations.big'],
      [payload(Array.from({ length: 1001 }, (_, i) => alert({ fingerprint: `dddd${String(i).padStart(12, '0')}` }))), 'alerts'],
      [{ alerts: 'none' }, 'alerts'],
    ];
    for (const [body, path] of cases) {
      const res = await t.call('POST', HOOK, body);
      assert.equal(res.status, 400, path);
      assert.equal(res.body.code, 'VALIDATION');
      assert.ok(
        res.body.details.issues.some((i: { path: string }) => i.path === path),
        `${path} in ${JSON.stringify(res.body.details.issues)}`,
      );
    }
    // Not JSON at all (a truncated post): the same error, naming the body.
    const cut = await t.app.request(HOOK, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"version": "4", "alerts": [' });
    assert.equal(cut.status, 400);
    const cutBody = (await cut.json()) as { code: string; details: { issues: Array<{ path: string }> } };
    assert.equal(cutBody.code, 'VALIDATION');
    assert.equal(cutBody.details.issues[0].path, 'body');
    // Many annotations, each within its bound, but too large for one event together: the alert is named.
    const annotations = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`a${i}`, 'x'.repeat(10_000)]));
    const big = await t.call('POST', HOOK, payload([alert({ fingerprint: 'cccc000000000001', annotations })]));
    assert.equal(big.status, 400);
    assert.deepEqual(
      big.body.details.issues.map((i: { path: string }) => i.path),
      ['alerts.0'],
    );
    assert.deepEqual(await alertEvents('cccc000000000001'), [], 'the valid alert of a refused payload was not stored');
    assert.equal((await t.call('POST', HOOK, payload([alert({ fingerprint: 'cccc000000000001' })]))).body.stored, 1, 'nor claimed');
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await t.call('GET', '/api/v1/openapi.json')).body;
    assert.ok(doc.paths['/api/v1/webhooks/alertmanager']?.post, Object.keys(doc.paths).join(', '));
  });
});

describe('an alert the event store does not take', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(async () => {
    await t?.stop();
  });

  it('answers 503 so Alertmanager retries, and the retry stores it (the claim was released)', async () => {
    // The event stream's key holding a string: every append fails until it is gone.
    await t.redisClient.set(t.keys.events, 'not a stream');
    const failed = await t.call('POST', HOOK, payload([alert({ fingerprint: 'ffff000000000001' })]));
    assert.equal(failed.status, 503, JSON.stringify(failed.body));
    assert.equal(failed.body.code, 'EVENTS.UNAVAILABLE');
    await t.redisClient.del(t.keys.events);
    const retried = await t.call('POST', HOOK, payload([alert({ fingerprint: 'ffff000000000001' })]));
    assert.equal(retried.status, 200);
    assert.equal(retried.body.stored, 1);
  });
});

describe('Alertmanager webhook tokens', () => {
  const SECRETS = { root: 'root-secret-0123456789', viewer: 'viewer-secret-0123456789', runner: 'runner-secret-0123456789' };
  const AM_TOKEN = 'alertmanager-secret-0123456789';
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  let t: TestSystem;
  let plain: TestSystem;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veer-am-tokens-'));
    const file = join(dir, 'tokens');
    writeFileSync(file, [`viewer:read:${SECRETS.viewer}`, `runner:run:${SECRETS.runner}`].join('\n'));
    t = await startTestSystem({ engine: false, env: { VEER_API_TOKENS: SECRETS.root, VEER_API_TOKENS_FILE: file, VEER_ALERTMANAGER_TOKEN: AM_TOKEN } });
    plain = await startTestSystem({ engine: false, redis: t.redis, env: { VEER_API_TOKENS: SECRETS.root, VEER_API_TOKENS_FILE: file } });
  });
  after(async () => {
    await plain?.stop();
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts VEER_ALERTMANAGER_TOKEN on the webhook, audited as alertmanager, and nowhere else', async () => {
    const ok = await t.call('POST', HOOK, payload([alert({ fingerprint: 'eeee000000000001' })]), bearer(AM_TOKEN));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.stored, 1);
    const audit = await t.call('GET', `/api/v1/audit?actor=alertmanager`, undefined, bearer(SECRETS.root));
    assert.equal(audit.body.entries[0]?.action, `POST ${HOOK}`);

    assert.equal((await t.call('POST', HOOK, payload([]))).status, 401, 'no token');
    assert.equal((await t.call('POST', HOOK, payload([]), bearer('alertmanager-secret-wrong000000'))).status, 401);
    assert.equal((await t.call('POST', '/api/v1/events', { tags: ['alerts'] }, bearer(AM_TOKEN))).status, 401, 'not an API token');
    assert.equal((await t.call('GET', '/api/v1/events', undefined, bearer(AM_TOKEN))).status, 401, 'not even for reading');
  });

  it('still takes API tokens with scope run, and refuses a read token naming the scope', async () => {
    assert.equal((await t.call('POST', HOOK, payload([alert({ fingerprint: 'eeee000000000002' })]), bearer(SECRETS.runner))).status, 200);
    assert.equal((await t.call('POST', HOOK, payload([alert({ fingerprint: 'eeee000000000003' })]), bearer(SECRETS.root))).status, 200);
    const refused = await t.call('POST', HOOK, payload([alert({ fingerprint: 'eeee000000000004' })]), bearer(SECRETS.viewer));
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /'viewer' has scope 'read'; POST \/api\/v1\/webhooks\/alertmanager needs 'run'/);
  });

  it('without VEER_ALERTMANAGER_TOKEN follows the API tokens alone', async () => {
    assert.equal((await plain.call('POST', HOOK, payload([]), bearer(AM_TOKEN))).status, 401);
    assert.equal((await plain.call('POST', HOOK, payload([alert({ fingerprint: 'eeee000000000005' })]), bearer(SECRETS.runner))).status, 200);
  });
});
