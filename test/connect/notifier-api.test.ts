import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startReceiver, type Receiver } from './notifier-receiver.ts';

const SECRET = 'a-long-enough-signing-secret';

describe('notifiers API and delivery', () => {
  let t: TestSystem;
  const receivers: Receiver[] = [];
  const receiver = async (status?: (n: number) => number) => {
    const r = await startReceiver(status);
    receivers.push(r);
    return r;
  };
  const post = async (event: unknown) => {
    const res = await t.call('POST', '/api/v1/events', event);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string };
  };

  before(async () => {
    t = await startTestSystem({
      engine: true,
      // With a secrets key, signing secrets are sealed at rest: every signature below is made from an opened one.
      env: {
        VEER_NOTIFY_ATTEMPTS: '4',
        VEER_NOTIFY_BACKOFF_MS: '20',
        VEER_NOTIFY_MAX_BACKOFF_MS: '100',
        VEER_NOTIFY_TIMEOUT_MS: '2000',
        VEER_SECRETS_KEY: randomBytes(32).toString('hex'),
      },
    });
  });
  after(async () => {
    for (const r of receivers) await r.close();
    await t.stop();
  });

  it('delivers a matching event as signed JSON and skips events that do not match', async () => {
    const r = await receiver();
    const put = await t.call('PUT', '/api/v1/notifiers/ops', { url: r.url, events: { tags: ['alerts'], types: ['deploy.*'] }, secret: SECRET });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    assert.equal(put.body.hasSecret, true);
    assert.equal('secret' in put.body, false, 'the secret is write-only');
    const raw = await t.redisClient.hget(t.keys.notifiers, 'ops');
    assert.ok(raw && !raw.includes(SECRET) && raw.includes('veer-sealed:'), `sealed at rest: ${raw}`);

    await post({ tags: ['other'], type: 'deploy.started', value: 1 });
    await post({ tags: ['alerts:shop'], type: 'noise', value: 2 });
    const wanted = await post({ tags: ['alerts:shop', 'team'], type: 'deploy.started', value: { version: 'v2' } });
    await waitFor(() => r.requests.length >= 1, { what: 'the matching event' });
    // A later matching event proves the two non-matching ones before it were passed over, not pending.
    const later = await post({ tags: ['alerts'], type: 'deploy.done' });
    await waitFor(() => r.requests.length >= 2, { what: 'the second matching event' });

    const [first, second] = r.requests;
    assert.equal(first.headers['x-veer-delivery'], `ops/${wanted.id}`);
    assert.equal(first.headers['x-veer-event-type'], 'deploy.started');
    assert.equal(first.headers['content-type'], 'application/json');
    assert.equal(first.body.notifier, 'ops');
    assert.equal(first.body.event.id, wanted.id);
    assert.deepEqual(first.body.event.value, { version: 'v2' });
    assert.ok(first.body.event.tags.includes('alerts'), 'tags arrive expanded');
    const ts = String(first.headers['x-veer-timestamp']);
    assert.match(ts, /^\d+$/);
    const expected = `sha256=${createHmac('sha256', SECRET).update(`${ts}.${first.raw}`).digest('hex')}`;
    assert.equal(first.headers['x-veer-signature'], expected, 'HMAC-SHA256 over "<timestamp>.<body>"');
    assert.equal(second.headers['x-veer-delivery'], `ops/${later.id}`);
    assert.equal(r.requests.length, 2, 'non-matching events are not delivered');

    const deliveries = await t.call('GET', '/api/v1/notifiers/ops/deliveries');
    assert.equal(deliveries.status, 200);
    assert.deepEqual(
      deliveries.body.deliveries.map((d: { eventId: string; status: string; httpStatus: number; attempt: number }) => [
        d.eventId,
        d.status,
        d.httpStatus,
        d.attempt,
      ]),
      [
        [later.id, 'delivered', 200, 1],
        [wanted.id, 'delivered', 200, 1],
      ],
    );
  });

  it('never returns the secret, keeps it when a GET body is PUT back, and removes it with null', async () => {
    const r = await receiver();
    await t.call('PUT', '/api/v1/notifiers/keeper', { url: r.url, events: { tags: ['keeper'] }, secret: SECRET });
    const got = await t.call('GET', '/api/v1/notifiers/keeper');
    assert.equal(got.status, 200);
    assert.equal(got.body.hasSecret, true);
    assert.equal(JSON.stringify(got.body).includes(SECRET), false);
    const list = await t.call('GET', '/api/v1/notifiers');
    assert.equal(JSON.stringify(list.body).includes(SECRET), false);
    assert.ok(list.body.notifiers.some((n: { name: string }) => n.name === 'keeper'));

    const back = await t.call('PUT', '/api/v1/notifiers/keeper', got.body);
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal(back.body.hasSecret, true, 'PUTting a GET body back keeps the secret');
    assert.equal(back.body.createdAt, got.body.createdAt);
    await post({ tags: ['keeper'], type: 'ping' });
    await waitFor(() => r.requests.length >= 1, { what: 'a signed delivery' });
    assert.ok(r.requests[0].headers['x-veer-signature']);

    const cleared = await t.call('PUT', '/api/v1/notifiers/keeper', { ...got.body, secret: null });
    assert.equal(cleared.body.hasSecret, false);
    await post({ tags: ['keeper'], type: 'ping' });
    await waitFor(() => r.requests.length >= 2, { what: 'an unsigned delivery' });
    assert.equal(r.requests[1].headers['x-veer-signature'], undefined);
    assert.equal(r.requests[1].headers['x-veer-timestamp'], undefined);

    assert.equal((await t.call('DELETE', '/api/v1/notifiers/keeper')).status, 204);
    assert.equal((await t.call('GET', '/api/v1/notifiers/keeper')).status, 404);
    assert.equal((await t.call('GET', '/api/v1/notifiers/keeper/deliveries')).status, 404);
    assert.equal((await t.call('DELETE', '/api/v1/notifiers/keeper')).status, 404);
  });

  it('fills {{secret:<name>}} in the URL at delivery, so GET shows only the name; a missing secret fails the tries naming it', async () => {
    const r = await receiver();
    const template = `${r.url}/{{secret:hook-path}}`;
    const put = await t.call('PUT', '/api/v1/notifiers/hooked', { url: template, events: { tags: ['hooked'] }, format: 'slack' });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    assert.equal(put.body.url, template);
    // Not stored yet: each try says which secret is missing, until the attempts are used up.
    const early = await post({ tags: ['hooked'], type: 'deploy.started' });
    const deliveries = async () =>
      (await t.call('GET', '/api/v1/notifiers/hooked/deliveries')).body.deliveries as Array<{ eventId: string; status: string; error?: string }>;
    const failed = await waitFor(async () => (await deliveries()).find((d) => d.eventId === early.id && d.status === 'failed'), {
      what: 'the first event given up',
    });
    assert.match(failed.error ?? '', /secret 'hook-path' does not exist/);
    assert.equal(r.requests.length, 0, 'nothing was sent without the secret');

    assert.equal((await t.call('PUT', '/api/v1/secrets/hook-path', { value: 'T000/B000/s3cr3t' })).status, 200);
    const later = await post({ tags: ['hooked'], type: 'deploy.started' });
    await waitFor(() => r.requests.length >= 1, { what: 'the delivery once the secret exists' });
    assert.equal(r.requests[0].path, '/hook/T000/B000/s3cr3t');
    assert.equal(r.requests[0].headers['x-veer-delivery'], `hooked/${later.id}`);
    const shown = JSON.stringify((await t.call('GET', '/api/v1/notifiers/hooked')).body) + JSON.stringify(await deliveries());
    assert.ok(shown.includes('{{secret:hook-path}}') && !shown.includes('s3cr3t'), shown);
  });

  it('renders Slack messages as one readable line', async () => {
    const r = await receiver();
    await t.call('PUT', '/api/v1/notifiers/chat', { url: r.url, events: { tags: ['chat'] }, format: 'slack' });
    const e = await post({ tags: ['chat'], type: 'build', value: { ok: true, n: 3 } });
    await waitFor(() => r.requests.length >= 1, { what: 'the slack message' });
    assert.deepEqual(r.requests[0].body, { text: 'build [chat]: {"ok":true,"n":3}' });
    assert.equal(r.requests[0].headers['x-veer-delivery'], `chat/${e.id}`);
  });

  it('retries a receiver answering 500 twice, and lists every attempt', async () => {
    const r = await receiver((n) => (n < 2 ? 500 : 200));
    await t.call('PUT', '/api/v1/notifiers/flaky', { url: r.url, events: { tags: ['flaky'] } });
    const e = await post({ tags: ['flaky'], type: 'ping' });
    await waitFor(() => r.delivered.length === 1, { what: 'the third attempt to succeed' });
    assert.equal(r.requests.length, 3);
    assert.deepEqual(new Set(r.requests.map((q) => q.headers['x-veer-delivery'])), new Set([`flaky/${e.id}`]), 'one delivery id on every retry');
    const d = await waitFor(async () => {
      const res = await t.call('GET', '/api/v1/notifiers/flaky/deliveries');
      return res.body.deliveries.length === 3 && res.body.deliveries;
    });
    assert.deepEqual(
      d.map((x: { attempt: number; status: string; httpStatus: number }) => [x.attempt, x.status, x.httpStatus]),
      [
        [3, 'delivered', 200],
        [2, 'retrying', 500],
        [1, 'retrying', 500],
      ],
    );
    assert.match(d[1].error, /HTTP 500/);
  });

  it('does not retry a 4xx answer: the event is recorded as failed and the next one is sent', async () => {
    const r = await receiver((n) => (n === 0 ? 400 : 200));
    await t.call('PUT', '/api/v1/notifiers/picky', { url: r.url, events: { tags: ['picky'] } });
    const refused = await post({ tags: ['picky'], type: 'ping' });
    const next = await post({ tags: ['picky'], type: 'pong' });
    await waitFor(() => r.delivered.length === 1, { what: 'the next event' });
    assert.deepEqual(
      r.requests.map((q) => q.headers['x-veer-delivery']),
      [`picky/${refused.id}`, `picky/${next.id}`],
    );
    const d = await waitFor(async () => {
      const res = await t.call('GET', '/api/v1/notifiers/picky/deliveries');
      return res.body.deliveries.length === 2 && res.body.deliveries;
    });
    assert.equal(d[1].eventId, refused.id);
    assert.equal(d[1].status, 'failed');
    assert.equal(d[1].httpStatus, 400);
    assert.match(d[1].error, /HTTP 400.*refused with 400/);
  });

  it('answers 400 naming the field for a bad url, format, events or secret', async () => {
    const cases: Array<[unknown, string]> = [
      [{ url: 'ftp://127.0.0.1/x', events: { tags: [] } }, 'url'],
      [{ url: 'not a url', events: { tags: [] } }, 'url'],
      [{ url: 'http://user:pw@127.0.0.1/x', events: { tags: [] } }, 'url'],
      [{ url: 'http://127.0.0.1/x', events: { tags: [] }, format: 'xml' }, 'format'],
      [{ url: 'http://127.0.0.1/x', events: { tags: ['bad tag'] } }, 'events.tags.0'],
      [{ url: 'http://127.0.0.1/x', events: { tags: [], types: ['a b'] } }, 'events.types.0'],
      [{ url: 'http://127.0.0.1/x', events: { tags: [] }, secret: 'short' }, 'secret'],
      [{ events: { tags: [] } }, 'url'],
      [{ url: 'http://127.0.0.1/x', events: { tags: [] }, name: 'other' }, 'name'],
    ];
    for (const [body, field] of cases) {
      const res = await t.call('PUT', '/api/v1/notifiers/bad', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status}`);
      assert.equal(res.body.code, 'VALIDATION');
      assert.ok(
        res.body.details.issues.some((i: { path: string }) => i.path === field),
        `${JSON.stringify(body)}: expected an issue at ${field}, got ${JSON.stringify(res.body.details.issues)}`,
      );
    }
    assert.equal((await t.call('PUT', '/api/v1/notifiers/Bad_Name', { url: 'http://127.0.0.1/x', events: { tags: [] } })).status, 400);
    assert.equal((await t.call('GET', '/api/v1/notifiers/bad')).status, 404, 'nothing was stored');
  });
});
