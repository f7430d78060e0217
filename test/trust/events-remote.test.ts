import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

const WAIT = { timeoutMs: 30_000, intervalMs: 25 };

/**
 * Events followed from another installation (VEER_EVENTS_REMOTE_URLS) keep that installation's
 * own tags and types, but arrive as `remote:<url>`, never as this Veer's `veer`: a trigger
 * limited to `veer` does not fire on them, one that accepts `remote:*` does.
 */
describe('remote events carry their own provenance', () => {
  let remote: TestSystem;
  let local: TestSystem;
  let http: ServerType;

  before(async () => {
    remote = await startTestSystem({ engine: false });
    http = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: remote.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/v1/events/stream?tag=deployments`;
    local = await startTestSystem({ redis: remote.redis, env: { VEER_EVENTS_REMOTE_URLS: url, VEER_EVENTS_TRIGGER_REFRESH_MS: '100' } });
  });
  after(async () => {
    await local?.stop();
    (http as unknown as { closeAllConnections(): void }).closeAllConnections();
    await new Promise((r) => http.close(r));
    await remote?.stop();
  });

  const { put, runsOf } = workflowCalls(() => local);

  it('a remote deployment event starts a `remote:*` trigger and not a `veer`-only one', async () => {
    const script = 'export default async function (ctx) { return { source: ctx.input.source, type: ctx.input.type } }';
    await put('veer-only', { script, trigger: { events: { tags: ['deployments'], sources: ['veer'] } }, overlap: 'allow' });
    await put('follower', { script, trigger: { events: { tags: ['deployments'], sources: ['remote:*'] } }, overlap: 'allow' });

    // The remote's own event; keep sending until the local follower has connected and forwarded one.
    const followed = await waitFor(
      async () => {
        const done = (await runsOf('follower')).find((r) => r.status === 'succeeded');
        if (done) return done;
        await remote.system.events.bus.emit({ tags: ['deployments:shop'], type: 'deployment.scaled', value: { instances: 3 } });
        return undefined;
      },
      { ...WAIT, intervalMs: 200, what: 'a followed remote event to start the follower' },
    );
    assert.match(followed.result.source, /^remote:http:\/\/127\.0\.0\.1:\d+\//);
    assert.equal(followed.result.type, 'deployment.scaled', "the remote's own type is kept");

    // Once a later local event has been dispatched, every remote one before it was considered too.
    await put('probe', { script: 'export default async function () { return 1 }', trigger: { events: { tags: ['sentinel'] } } });
    await waitFor(
      async () => {
        if ((await runsOf('probe')).length > 0) return true;
        await local.call('POST', '/api/v1/events', { tags: ['sentinel'] });
        return false;
      },
      { ...WAIT, intervalMs: 100, what: 'the sentinel run' },
    );
    assert.deepEqual(await runsOf('veer-only'), [], 'remote events are not this Veer’s own');
  });
});
