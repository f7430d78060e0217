import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startReceiver, type Receiver } from './notifier-receiver.ts';

const ATTEMPTS = 3;

describe('a notifier whose receiver keeps failing', () => {
  let t: TestSystem;
  let broken: Receiver;
  let healthy: Receiver;
  let closedUrl: string;
  let release!: () => void;

  before(async () => {
    t = await startTestSystem({
      engine: true,
      env: { VEER_NOTIFY_ATTEMPTS: String(ATTEMPTS), VEER_NOTIFY_BACKOFF_MS: '20', VEER_NOTIFY_MAX_BACKOFF_MS: '40', VEER_NOTIFY_TIMEOUT_MS: '60000' },
    });
    // Its first request hangs until the test lets it go: a stuck receiver.
    const stuck = new Promise<void>((r) => (release = r));
    broken = await startReceiver(
      () => 503,
      (n) => (n === 0 ? stuck : undefined),
    );
    healthy = await startReceiver();
    // A port nobody listens on any more: connection refused.
    const gone = await startReceiver();
    closedUrl = gone.url;
    await gone.close();
  });
  after(async () => {
    await broken.close();
    await healthy.close();
    await t.stop();
  });

  it(`gives up after VEER_NOTIFY_ATTEMPTS tries, records failed, moves on — and another notifier is never held up`, async () => {
    assert.equal((await t.call('PUT', '/api/v1/notifiers/broken', { url: broken.url, events: { tags: ['watch'] } })).status, 201);
    assert.equal((await t.call('PUT', '/api/v1/notifiers/refused', { url: closedUrl, events: { tags: ['watch'] } })).status, 201);
    assert.equal((await t.call('PUT', '/api/v1/notifiers/healthy', { url: healthy.url, events: { tags: ['watch'] } })).status, 201);

    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await t.call('POST', '/api/v1/events', { tags: ['watch'], type: 'tick', value: i })).body.id);

    // The healthy receiver gets every event while the broken one is stuck on its first request.
    await waitFor(() => healthy.delivered.length === 3, { what: 'the healthy notifier to receive all three' });
    assert.deepEqual(
      healthy.delivered,
      ids.map((id) => `healthy/${id}`),
    );
    assert.equal(broken.requests.length, 1, 'the broken notifier is still on its first try');
    release();

    // Each event: ATTEMPTS tries, then failed, then the next event.
    await waitFor(() => broken.requests.length === ATTEMPTS * ids.length, { timeoutMs: 30_000, what: 'every try of every event' });
    assert.deepEqual(
      broken.requests.map((r) => r.headers['x-veer-delivery']),
      ids.flatMap((id) => Array<string>(ATTEMPTS).fill(`broken/${id}`)),
    );
    const d = await waitFor(async () => {
      const res = await t.call('GET', `/api/v1/notifiers/broken/deliveries?limit=${ATTEMPTS * ids.length}`);
      return res.body.deliveries.length === ATTEMPTS * ids.length && res.body.deliveries;
    });
    const ofFirst = d.filter((x: { eventId: string }) => x.eventId === ids[0]).reverse();
    assert.deepEqual(
      ofFirst.map((x: { attempt: number; status: string; httpStatus: number }) => [x.attempt, x.status, x.httpStatus]),
      [
        [1, 'retrying', 503],
        [2, 'retrying', 503],
        [3, 'failed', 503],
      ],
    );
    assert.match(ofFirst[2].error, /gave up after 3 attempts/);

    const refused = await waitFor(async () => {
      const res = await t.call('GET', '/api/v1/notifiers/refused/deliveries?limit=1');
      const last = res.body.deliveries[0];
      return last?.eventId === ids[2] && last.status === 'failed' && last;
    });
    assert.equal(refused.httpStatus, undefined, 'no answer, no HTTP status');
    assert.match(refused.error, /request failed: ECONNREFUSED/);
  });
});
