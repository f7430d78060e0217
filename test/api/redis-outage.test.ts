import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

describe('the API while Redis is down', () => {
  let t: TestSystem;
  let second: TestRedis | undefined;
  before(async () => {
    t = await startTestSystem();
  });
  after(async () => {
    await t.stop();
    await second?.stop();
  });

  it('answers 503 naming Redis instead of hanging, and serves again when Redis is back', async () => {
    await t.call('PUT', '/api/v1/workflows/survives', { script: 'export default async function () { return "ok" }' });
    await t.redis.stop();
    const down = await t.call('GET', '/api/v1/workflows');
    assert.equal(down.status, 503);
    assert.equal(down.body.code, 'REDIS.UNAVAILABLE');
    assert.match(down.body.message, /VEER_REDIS_URL/);
    const ready = await t.call('GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.checks.redis.ok, false);

    // Same port, empty data: what a restarted, non-persistent Redis looks like.
    second = await startRedis({ port: t.redis.port });
    await waitFor(async () => (await t.call('GET', '/api/v1/workflows')).status === 200, { timeoutMs: 20_000, what: 'API to serve again' });
    await t.call('PUT', '/api/v1/workflows/survives', { script: 'export default async function () { return "ok" }' });
    const run = await waitFor(
      async () => {
        const r = await t.call('POST', '/api/v1/workflows/survives/runs?wait=true&timeoutMs=2000', {});
        return r.body.status === 'succeeded' && r.body;
      },
      { timeoutMs: 30_000, what: 'the engine to run again after the outage' },
    );
    assert.equal(run.result, 'ok');
    await waitFor(async () => (await t.call('GET', '/readyz')).status === 200, { timeoutMs: 20_000, what: 'ready again' });
  });
});
