import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createApp } from '../../api/app.ts';
import { createGatewayRoutes } from '../../api/routes/gateways.ts';
import { agentKey, type AgentStatus } from '../../engine/domain/gateways/keys.ts';
import { createGatewayService, type GatewayEvent } from '../../engine/gateways/service.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { createMemoryKv } from './memory-kv.ts';

function setup() {
  const kv = createMemoryKv();
  const events: GatewayEvent[] = [];
  const gateways = createGatewayService({ kv, logger: silentLogger(), emit: async (e) => void events.push(e) });
  const app = createApp({ logger: silentLogger(), tokens: [], routers: [createGatewayRoutes({ gateways })] });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(`/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, etag: res.headers.get('etag') };
  };
  return { kv, events, gateways, call };
}

const shop = { port: 8080, routes: { v1: { targets: [{ host: '127.0.0.1', port: 9001 }] }, v2: { targets: [{ host: '127.0.0.1', port: 9002 }] } } };

test('PUT creates (201) with filled-in weights and a revision; GET, list and a second PUT (200)', async () => {
  const { call, events } = setup();
  const created = await call('PUT', '/gateways/shop', shop);
  assert.equal(created.status, 201);
  assert.equal(created.body.name, 'shop');
  assert.equal(created.body.routes.v1.weight, 50);
  assert.equal(created.body.routes.v2.weight, 50);
  assert.equal(typeof created.body.revision, 'string');
  assert.equal(created.etag, `"${created.body.revision}"`);
  assert.deepEqual(
    events.map((e) => [e.type, e.tags]),
    [['gateway.updated', ['gateways', 'gateways:shop']]],
  );

  const got = await call('GET', '/gateways/shop');
  assert.equal(got.status, 200);
  assert.equal(got.body.revision, created.body.revision);
  assert.deepEqual(
    (await call('GET', '/gateways')).body.gateways.map((g: { name: string }) => g.name),
    ['shop'],
  );

  const same = await call('PUT', '/gateways/shop', got.body);
  assert.equal(same.status, 200, 'a GET body can be PUT back');
  assert.equal(same.body.revision, created.body.revision, 'an unchanged PUT writes nothing');
  assert.equal(events.length, 1);
});

test('PUT /weights sets absolute weights, is idempotent, and emits gateway.weights', async () => {
  const { call, events } = setup();
  await call('PUT', '/gateways/shop', shop);
  const w = await call('PUT', '/gateways/shop/weights', { v1: 90, v2: 10 });
  assert.equal(w.status, 200);
  assert.deepEqual([w.body.routes.v1.weight, w.body.routes.v2.weight], [90, 10]);
  const again = await call('PUT', '/gateways/shop/weights', { v1: 90, v2: 10 });
  assert.equal(again.body.revision, w.body.revision, 'same weights again change nothing');
  const weightEvents = events.filter((e) => e.type === 'gateway.weights');
  assert.equal(weightEvents.length, 1);
  assert.deepEqual(weightEvents[0].value, { gateway: 'shop', revision: w.body.revision, before: { v1: 50, v2: 50 }, after: { v1: 90, v2: 10 } });
});

test('400s say what is wrong', async () => {
  const { call } = setup();
  await call('PUT', '/gateways/shop', shop);
  const sum = await call('PUT', '/gateways/shop/weights', { v1: 60, v2: 30 });
  assert.equal(sum.status, 400);
  assert.equal(sum.body.code, 'VALIDATION');
  assert.match(sum.body.message, /add up to 90 \(v1 60 \+ v2 30\)/);
  const unknown = await call('PUT', '/gateways/shop/weights', { v9: 100 });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.message, /no route 'v9'; its routes are v1, v2/);
  const cond = await call('PUT', '/gateways/bad', { port: 8081, routes: { v1: { condition: 'user-agent ==' } } });
  assert.equal(cond.status, 400);
  assert.equal(cond.body.message, "routes.v1.condition: column 14: expected a value after '=='");
  assert.deepEqual(cond.body.details.issues[0], { path: 'routes.v1.condition', message: "expected a value after '=='", column: 14 });
  const shape = await call('PUT', '/gateways/bad', { port: 'x', routes: {} });
  assert.equal(shape.status, 400);
  assert.match(shape.body.message, /port/);
  const name = await call('PUT', '/gateways/Bad_Name', shop);
  assert.equal(name.status, 400);
  const mismatch = await call('PUT', '/gateways/shop', { ...shop, name: 'other' });
  assert.equal(mismatch.status, 400);
  assert.match(mismatch.body.message, /path says 'shop'/);
});

test('a stale revision is a 409 (If-Match header or revision field); the current one succeeds', async () => {
  const { call } = setup();
  const v1 = (await call('PUT', '/gateways/shop', shop)).body.revision;
  const v2 = (await call('PUT', '/gateways/shop/weights', { v1: 70, v2: 30 }, { 'if-match': `"${v1}"` })).body.revision;
  const stale = await call('PUT', '/gateways/shop/weights', { v1: 10, v2: 90 }, { 'if-match': v1 });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.code, 'CONFLICT');
  assert.match(stale.body.message, new RegExp(`you sent revision ${v1} but it is now at revision ${v2}`));
  const staleField = await call('PUT', '/gateways/shop/weights', { v1: 10, v2: 90, revision: v1 });
  assert.equal(staleField.status, 409);
  const stalePut = await call('PUT', '/gateways/shop', { ...shop, revision: v1 });
  assert.equal(stalePut.status, 409);
  const ok = await call('PUT', '/gateways/shop/weights', { v1: 10, v2: 90, revision: v2 });
  assert.equal(ok.status, 200);
  const createOnly = await call('PUT', '/gateways/shop', shop, { 'if-match': '0' });
  assert.equal(createOnly.status, 409);
  assert.match(createOnly.body.message, /already exists/);
  const staleDelete = await call('DELETE', '/gateways/shop', undefined, { 'if-match': v1 });
  assert.equal(staleDelete.status, 409);
});

test('a port used by another gateway is a 409 naming it', async () => {
  const { call } = setup();
  await call('PUT', '/gateways/shop', shop);
  const clash = await call('PUT', '/gateways/other', shop);
  assert.equal(clash.status, 409);
  assert.match(clash.body.message, /port 8080 is already used by gateway 'shop'/);
});

test('DELETE removes (204) and later calls are 404', async () => {
  const { call } = setup();
  await call('PUT', '/gateways/shop', shop);
  assert.equal((await call('DELETE', '/gateways/shop')).status, 204);
  assert.equal((await call('GET', '/gateways/shop')).status, 404);
  assert.equal((await call('DELETE', '/gateways/shop')).status, 404);
  assert.equal((await call('PUT', '/gateways/shop/weights', { v1: 100, v2: 0 })).status, 404);
  assert.equal((await call('GET', '/gateways/shop/status')).status, 404);
});

test('status tells which agents serve which revision and whether the current one is live', async () => {
  const { call, kv } = setup();
  const rev1 = (await call('PUT', '/gateways/shop', shop)).body.revision;
  const agent = (id: string, revision: string, heartbeatAt = new Date().toISOString()): AgentStatus => ({
    agentId: id,
    heartbeatAt,
    heartbeatIntervalMs: 1000,
    startedAt: heartbeatAt,
    kv: { kind: 'memory', connected: true },
    haproxy: { running: true, reloads: 0 },
    gateways: { shop: { appliedRevision: revision, appliedAt: heartbeatAt } },
  });
  let st = await call('GET', '/gateways/shop/status');
  assert.deepEqual({ live: st.body.live, agents: st.body.agents }, { live: false, agents: [] });

  await kv.put(agentKey('a1'), JSON.stringify(agent('a1', rev1)));
  st = await call('GET', '/gateways/shop/status');
  assert.equal(st.body.live, true);
  assert.equal(st.body.agents[0].current, true);

  const rev2 = (await call('PUT', '/gateways/shop/weights', { v1: 100, v2: 0 })).body.revision;
  st = await call('GET', '/gateways/shop/status');
  assert.equal(st.body.live, false, 'the agent still serves the previous revision');
  assert.equal(st.body.agents[0].appliedRevision, rev1);

  await kv.put(agentKey('a1'), JSON.stringify(agent('a1', rev2)));
  await kv.put(agentKey('dead'), JSON.stringify(agent('dead', rev1, new Date(Date.now() - 60_000).toISOString())));
  st = await call('GET', '/gateways/shop/status');
  assert.equal(st.body.live, true, 'an agent that stopped heartbeating does not hold the status back');
  assert.deepEqual(
    st.body.agents.map((a: { agentId: string; alive: boolean }) => [a.agentId, a.alive]),
    [
      ['a1', true],
      ['dead', false],
    ],
  );
});

test('the routes are in the OpenAPI document', async () => {
  const { call } = setup();
  const doc = (await call('GET', '/openapi.json')).body;
  for (const p of ['/gateways', '/gateways/{name}', '/gateways/{name}/weights', '/gateways/{name}/status']) assert.ok(doc.paths[`/api/v1${p}`], p);
});

test('concurrent weight changes without a revision all succeed (CAS retries inside); with a revision one wins', async () => {
  const { call, gateways } = setup();
  await call('PUT', '/gateways/shop', shop);
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => gateways.setWeights('shop', { v1: 100 - i * 10, v2: i * 10 })));
  assert.equal(results.length, 8);
  const final = await gateways.get('shop');
  assert.equal(final.routes.v1.weight + final.routes.v2.weight, 100);
  const rev = final.revision;
  const raced = await Promise.allSettled([
    gateways.setWeights('shop', { v1: 1, v2: 99 }, { ifRevision: rev }),
    gateways.setWeights('shop', { v1: 2, v2: 98 }, { ifRevision: rev }),
  ]);
  assert.deepEqual(raced.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  assert.match(String((raced.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason.message), /changed by someone else/);
});
