import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { startTestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * Upgrading from a release before hash-tagged keys: `<p>:wf:…`, `<p>:run:…`, `<p>:q:…` are
 * renamed into `{<p>}:…`, `{<p>:q}:…` at start-up (adapters/redis/legacy-layout.ts), and the
 * list of every run, which that release did not keep, is built from the workflows' run lists,
 * so nothing written before the upgrade goes missing from the API or the dashboard.
 *
 * The old layout is made from a new one by the inverse renaming, minus the keys the old release
 * never wrote (the run list, the layout marker).
 */
describe('upgrade from the untagged Redis key layout', () => {
  let redis: TestRedis;
  const prefix = `up${randomBytes(4).toString('hex')}`;
  const env = { VEER_REDIS_PREFIX: prefix, VEER_SECRETS_KEY: randomBytes(32).toString('base64') };

  before(async () => {
    // A server of its own: the old layout only ever existed on a single server.
    redis = await startRedis({ own: true });
  });
  after(() => redis?.stop());

  /** `{p}:rest` → `p:rest`, `{p:q}:rest` → `p:q:rest` and so on: the names the old release used. */
  function legacyName(key: string): string | undefined {
    const m = /^\{([^}]+)\}(.*)$/.exec(key);
    if (!m) return undefined;
    const [, tag, rest] = m;
    if (tag === prefix) return `${prefix}${rest}`;
    for (const family of ['q', 'metrics']) if (tag === `${prefix}:${family}`) return `${prefix}:${family}${rest}`;
    if (tag === `${prefix}:scheduler`) return `${prefix}:scheduler${rest}`;
    // `{p:kv}`: the KV store was tagged already.
    return undefined;
  }

  it('keeps workflows, runs, logs, state and secrets, and lists the old runs across workflows', async () => {
    const old = await startTestSystem({ redis, env });
    const runIds: string[] = [];
    try {
      for (const name of ['alpha', 'beta']) {
        const put = await old.call('PUT', `/api/v1/workflows/${name}`, {
          script: `export default async (ctx) => { ctx.log.info('from ${name}'); await ctx.state.set('seen', ${JSON.stringify(name)}); return 1 }`,
        });
        assert.equal(put.status, 200, JSON.stringify(put.body));
        const run = await old.call('POST', `/api/v1/workflows/${name}/runs?wait=true`, {});
        assert.equal(run.body.status, 'succeeded', JSON.stringify(run.body));
        runIds.push(run.body.id);
      }
      assert.equal((await old.call('PUT', '/api/v1/secrets/db-password', { value: 'hunter2' })).status, 200);
    } finally {
      await old.stop();
    }

    // Back to the old names, as the release before wrote them.
    const client = redis.client();
    try {
      await client.del(`{${prefix}}:runs:all`, `{${prefix}}:layout`);
      let renamed = 0;
      for (const key of await client.keys(`{${prefix}*`)) {
        const legacy = legacyName(key);
        if (legacy) renamed += Number(await client.renamenx(key, legacy));
      }
      assert.ok(renamed > 10, `renamed ${renamed} keys to the old layout`);
      assert.deepEqual(await client.keys(`{${prefix}}:*`), [], 'nothing left in the new layout');
    } finally {
      client.disconnect();
    }

    const upgraded = await startTestSystem({ redis, env });
    try {
      const names = (await upgraded.call('GET', '/api/v1/workflows')).body.workflows.map((w: { name: string }) => w.name).sort();
      assert.deepEqual(names, ['alpha', 'beta']);
      const all = await upgraded.call('GET', '/api/v1/runs');
      assert.deepEqual(all.body.runs.map((r: { id: string }) => r.id).sort(), [...runIds].sort(), 'runs from before the upgrade are listed across workflows');
      assert.equal((await upgraded.call('GET', '/api/v1/workflows/alpha/runs')).body.runs[0].id, runIds[0]);
      const log = await upgraded.call('GET', `/api/v1/runs/${runIds[1]}/logs`);
      assert.deepEqual(
        log.body.entries.map((e: { message: string }) => e.message),
        ['from beta'],
      );
      assert.deepEqual((await upgraded.call('GET', '/api/v1/workflows/beta/state')).body.state, { seen: 'beta' });
      assert.equal((await upgraded.call('GET', '/api/v1/secrets/db-password')).status, 200);

      // And it goes on: a new run is listed before the old ones.
      const next = await upgraded.call('POST', '/api/v1/workflows/alpha/runs?wait=true', {});
      assert.equal(next.body.status, 'succeeded', JSON.stringify(next.body));
      const listed = await waitFor(async () => {
        const runs = (await upgraded.call('GET', '/api/v1/runs')).body.runs as Array<{ id: string }>;
        return runs.length === 3 && runs;
      });
      assert.equal(listed[0].id, next.body.id);
    } finally {
      await upgraded.stop();
    }
  });
});
