import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../boot/config.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';
import { startReceiver } from './notifier-receiver.ts';

// Quotes and a slash: its JSON-escaped and base64 forms differ from the value itself.
const SECRET = 'xoxb-4711-"quoted"/tail';
const b64 = Buffer.from(SECRET).toString('base64');
const jsonEscaped = JSON.stringify(SECRET).slice(1, -1);
const FORMS = [SECRET, b64, b64.replace(/=+$/, ''), jsonEscaped];

// A script that tries every way a secret leaves a run by mistake: logs (ctx.log, console,
// fields), a JSON string, base64 (hand-rolled: isolates have no btoa), an emitted event, state,
// the result and a thrown error.
const leaky = `
const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function b64(s) {
  const bytes = [];
  for (const ch of unescape(encodeURIComponent(s))) bytes.push(ch.charCodeAt(0));
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += A[(n >> 18) & 63] + A[(n >> 12) & 63] + (i + 1 < bytes.length ? A[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? A[n & 63] : '=');
  }
  return out;
}
export default async function (ctx) {
  const s = await ctx.secrets.get('slack-token');
  ctx.log.info('the token is ' + s, { token: s, encoded: b64(s) });
  console.log('as json', JSON.stringify({ token: s }));
  console.warn('basic', b64(s));
  await ctx.events.emit({ tags: ['leak-test'], type: 'leak.tried', value: { s, b: b64(s), j: JSON.stringify({ s }), [s]: 1 } });
  await ctx.state.set('kept', { s, j: JSON.stringify([s]) });
  if (ctx.input && ctx.input.fail) throw new Error('could not post with ' + s + ' (' + b64(s) + ')');
  return { s, b: b64(s), j: JSON.stringify({ nested: s }), length: s.length };
}`;

function assertNoSecret(where: string, value: unknown): void {
  const text = JSON.stringify(value);
  for (const form of FORMS)
    assert.ok(!text.includes(form) && !text.includes(JSON.stringify(form).slice(1, -1)), `${where} leaks the secret (${form}): ${text}`);
}

describe('secrets', () => {
  let redis: TestRedis;
  let t: TestSystem;
  const key = randomBytes(32).toString('hex');
  const wf = workflowCalls(() => t);
  before(async () => {
    redis = await startRedis();
    t = await startTestSystem({ redis, env: { VEER_SECRETS_KEY: key } });
  });
  after(async () => {
    await t.stop();
    await redis.stop();
  });

  it('are write-only through the API and sealed at rest', async () => {
    const put = await t.call('PUT', '/api/v1/secrets/slack-token', { value: SECRET });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(Object.keys(put.body).sort(), ['annotations', 'createdAt', 'labels', 'name', 'updatedAt', 'version']);
    assert.equal(put.body.version, 1);
    const again = await t.call('PUT', '/api/v1/secrets/slack-token', { value: SECRET });
    assert.equal(again.body.version, 2);
    assert.equal(again.body.createdAt, put.body.createdAt);

    const one = await t.call('GET', '/api/v1/secrets/slack-token');
    assert.equal(one.status, 200);
    assertNoSecret('GET /secrets/{name}', one.body);
    const list = await t.call('GET', '/api/v1/secrets');
    assert.deepEqual(
      list.body.secrets.map((s: { name: string }) => s.name),
      ['slack-token'],
    );
    assert.equal(list.body.canSeal, true);
    assertNoSecret('GET /secrets', list.body);

    const raw = await t.redisClient.hgetall(t.keys.secrets);
    assertNoSecret('the Redis record', raw);
    assert.match(JSON.parse(raw['slack-token']).sealed.tag, /^[A-Za-z0-9+/]+=*$/);
  });

  it('answer 400 naming the field for a bad value and 404 for an unknown name', async () => {
    for (const body of [{}, { value: '' }, { value: 3 }, { value: 'x', extra: 1 }]) {
      const res = await t.call('PUT', '/api/v1/secrets/bad', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.code, 'VALIDATION');
    }
    assert.equal((await t.call('PUT', '/api/v1/secrets/Not_A_Name', { value: 'x' })).status, 400);
    assert.equal((await t.call('GET', '/api/v1/secrets/nope')).status, 404);
    assert.equal((await t.call('DELETE', '/api/v1/secrets/nope')).status, 404);
  });

  it('reach a script only when permissions.secrets grants them, and never leave the run', async () => {
    await t.call('PUT', '/api/v1/secrets/slack-token', { value: SECRET });
    // Notifications are events delivered elsewhere: JSON and Slack alike must carry no secret.
    const receiver = await startReceiver();
    for (const format of ['json', 'slack']) {
      const r = await t.call('PUT', `/api/v1/notifiers/leaks-${format}`, { url: receiver.url, events: { tags: ['leak-test'] }, format });
      assert.ok(r.status < 300, JSON.stringify(r.body));
    }
    await wf.put('leaky', { script: leaky, permissions: { secrets: ['slack-*'] } });
    const ok = await wf.finished((await t.call('POST', '/api/v1/workflows/leaky/runs', {})).body.id);
    assert.equal(ok.status, 'succeeded', JSON.stringify(ok.error));
    assert.equal(ok.result.length, SECRET.length, 'the script did get the real value');
    assert.equal(ok.result.s, '***');
    assertNoSecret('the result', ok.result);

    const failed = await wf.finished((await t.call('POST', '/api/v1/workflows/leaky/runs', { input: { fail: true } })).body.id);
    assert.equal(failed.status, 'failed');
    assert.match(failed.error.message, /could not post with \*\*\* \(\*\*\*\)/);
    assertNoSecret('the error', failed.error);

    for (const run of [ok, failed]) {
      const log = await t.call('GET', `/api/v1/runs/${run.id}/logs`);
      assert.equal(log.status, 200);
      assert.ok(JSON.stringify(log.body).includes('the token is ***'), JSON.stringify(log.body));
      assertNoSecret('the run log', log.body);
    }
    const events = await t.call('GET', '/api/v1/events?tag=leak-test&limit=10');
    assert.equal(events.body.events.length, 2);
    assert.equal(events.body.events[0].value.s, '***');
    assertNoSecret('emitted events', events.body);
    await waitFor(() => receiver.requests.length >= 4, { timeoutMs: 30_000, what: 'both notifiers to deliver both events' });
    await receiver.close();
    assertNoSecret(
      'notifications',
      receiver.requests.map((r) => r.raw),
    );
    assert.ok(receiver.requests.some((r) => r.raw.includes('***')));
    const state = await t.call('GET', '/api/v1/workflows/leaky/state');
    assert.equal(state.body.state.kept.s, '***');
    assertNoSecret('state', state.body);
  });

  it('refuse an ungranted secret naming it and the grants, and an unknown one as NOT_FOUND', async () => {
    await wf.put('nosy', { script: "export default async (ctx) => ctx.secrets.get('slack-token')", permissions: { secrets: ['db-*'] } });
    const refused = await wf.finished((await t.call('POST', '/api/v1/workflows/nosy/runs', {})).body.id);
    assert.equal(refused.status, 'failed');
    assert.match(refused.error.message, /secret 'slack-token'.*permissions\.secrets \(granted: db-\*\) \[PERMISSION\]/);
    await wf.put('lost', { script: "export default async (ctx) => ctx.secrets.get('db-gone')", permissions: { secrets: ['db-*'] } });
    const missing = await wf.finished((await t.call('POST', '/api/v1/workflows/lost/runs', {})).body.id);
    assert.match(missing.error.message, /secret 'db-gone' does not exist \[NOT_FOUND\]/);
  });

  it('survive key rotation: the previous key still opens, and start-up re-seals with the new one', async () => {
    // An installation of its own: the suite's engine (old key only) must not pick up these runs.
    const prefix = `rot${randomBytes(4).toString('hex')}`;
    const first = await startTestSystem({ redis, engine: false, env: { VEER_REDIS_PREFIX: prefix, VEER_SECRETS_KEY: key } });
    await first.call('PUT', '/api/v1/secrets/rotated', { value: 'before-rotation' });
    const oldKeyId = JSON.parse((await first.redisClient.hget(first.keys.secrets, 'rotated'))!).sealed.keyId;
    await first.stop();
    const next = randomBytes(32).toString('base64');
    const rotated = await startTestSystem({ redis, engine: false, env: { VEER_REDIS_PREFIX: prefix, VEER_SECRETS_KEY: next, VEER_SECRETS_KEY_PREVIOUS: key } });
    try {
      const record = JSON.parse((await rotated.redisClient.hget(rotated.keys.secrets, 'rotated'))!);
      assert.notEqual(record.sealed.keyId, oldKeyId, 're-sealed with the new key');
      assert.equal(record.version, 1, 'rotation makes no new version');
    } finally {
      await rotated.stop();
    }
    // The new key alone now opens it.
    const only = await startTestSystem({ redis, env: { VEER_REDIS_PREFIX: prefix, VEER_SECRETS_KEY: next } });
    try {
      await workflowCalls(() => only).put('reader', {
        script: "export default async (ctx) => (await ctx.secrets.get('rotated')).length",
        permissions: { secrets: ['rotated'] },
      });
      const run = await workflowCalls(() => only).finished((await only.call('POST', '/api/v1/workflows/reader/runs', {})).body.id);
      assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
      assert.equal(run.result, 'before-rotation'.length);
    } finally {
      await only.stop();
    }
  });

  it('without VEER_SECRETS_KEY are refused with how to set one; a bad key stops start-up naming the variable', async () => {
    const keyless = await startTestSystem({ redis, engine: false });
    try {
      const res = await keyless.call('PUT', '/api/v1/secrets/any', { value: 'x' });
      assert.equal(res.status, 409);
      assert.equal(res.body.code, 'SECRETS.NO_KEY');
      assert.match(res.body.message, /VEER_SECRETS_KEY=\$\(openssl rand -hex 32\)/);
      // The list says so too (the dashboard shows it), instead of an empty list that looks fine.
      const list = await keyless.call('GET', '/api/v1/secrets');
      assert.equal(list.status, 200);
      assert.equal(list.body.canSeal, false);
      assert.match(list.body.hint, /VEER_SECRETS_KEY=\$\(openssl rand -hex 32\)/);
    } finally {
      await keyless.stop();
    }
    for (const bad of ['short', 'zz'.repeat(32), Buffer.alloc(16).toString('base64')]) {
      assert.throws(
        () => loadConfig({ VEER_SECRETS_KEY: bad }),
        (err: Error) => /VEER_SECRETS_KEY/.test(err.message) && /32 bytes/.test(err.message),
      );
    }
  });
});
