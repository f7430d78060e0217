import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createRedisKvStore } from '../../adapters/kv/redis.ts';
import type { GatewayPatch } from '../../engine/gateways/service.ts';
import type { KvStore } from '../../engine/ports/kv-store.ts';
import { freePort } from '../helpers/free-port.ts';
import { startHttpBackends, type HttpBackend } from '../helpers/http-backends.ts';
import { fetchOnce, runLoad, startLoad } from '../helpers/load.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startAgentSystem, withinSigma, type AgentSystem } from './agent-system.ts';

/**
 * Real HAProxy 2.6 + the gateway agent + real Redis KV + real HTTP backends on loopback.
 * Statistical assertions use a binomial ±4σ band (HAProxy's roundrobin is in fact exact for
 * weights; conditions with a strength use rand(), which is genuinely random).
 */

let redis: TestRedis;
let agentKv: KvStore;
let serviceKv: KvStore;
let sys: AgentSystem;
let backends: HttpBackend[];
const target = (name: string) => {
  const b = backends.find((x) => x.name === name)!;
  return { host: '127.0.0.1', port: b.port };
};

before(async () => {
  redis = await startRedis();
  const prefix = `gw-test-${process.pid}`;
  agentKv = createRedisKvStore({ url: redis.url, prefix, timeoutMs: 2000 });
  serviceKv = createRedisKvStore({ url: redis.url, prefix, timeoutMs: 2000 });
  backends = await startHttpBackends(['v1', 'v2', 'v3', 'v2b']);
  sys = await startAgentSystem({ agentKv, serviceKv });
});

after(async () => {
  await sys?.stop();
  await Promise.all((backends ?? []).map((b) => b.close()));
  await agentKv?.close();
  await serviceKv?.close();
  await redis?.stop();
});

test('a 90/10 gateway splits real traffic 90/10', async () => {
  const port = await freePort();
  await sys.service.put('split', { port, routes: { v1: { weight: 90, targets: [target('v1')] }, v2: { weight: 10, targets: [target('v2')] } } });
  await sys.live('split');
  const n = 3000;
  const r = await runLoad({ url: `http://127.0.0.1:${port}/`, requests: n, concurrency: 8 });
  assert.equal(r.failures, 0, JSON.stringify(r.errors));
  assert.ok(withinSigma(r.counts.v2 ?? 0, n, 0.1), `v2 got ${r.counts.v2} of ${n}, expected 300 ± 4σ (σ ≈ 16.4)`);
  assert.equal((r.counts.v1 ?? 0) + (r.counts.v2 ?? 0), n);
});

test('each request is logged once, with gateway, route, instance, status and timings', async () => {
  const port = await freePort();
  await sys.service.put('logged', { port, routes: { v1: { weight: 50, targets: [target('v1')] }, v2: { weight: 50, targets: [target('v2')] } } });
  await sys.live('logged');
  // Low concurrency: UDP is lossy under bursts, and this asserts an exact count.
  const r = await runLoad({ url: `http://127.0.0.1:${port}/some/path?q=1`, requests: 200, concurrency: 2 });
  await waitFor(() => sys.records.filter((x) => x.gateway === 'logged').length >= 200, { what: 'log records for every request' });
  const recs = sys.records.filter((x) => x.gateway === 'logged');
  assert.equal(recs.length, 200, 'one log record per request');
  assert.equal(recs.filter((x) => x.route === 'v2').length, r.counts.v2, 'log routes agree with what the clients saw');
  const one = recs.find((x) => x.route === 'v2')!;
  assert.equal(one.instance, `127.0.0.1:${target('v2').port}`);
  assert.equal(one.status, 200);
  assert.equal(one.method, 'GET');
  assert.equal(one.uri, '/some/path?q=1');
  assert.equal(one.client.ip, '127.0.0.1');
  assert.ok(one.timings.total >= 0 && one.timings.response! >= 0);
  assert.ok(Math.abs(one.timestamp - Date.now()) < 60_000, 'timestamp is epoch ms');
});

test('conditions send matching requests (header, cookie, user agent) to their route, with their strength', async () => {
  const port = await freePort();
  await sys.service.put('cond', {
    port,
    routes: {
      v1: { weight: 100, targets: [target('v1')] },
      v2: { weight: 0, condition: 'header X-Canary == yes or cookie group == beta', targets: [target('v2')] },
      v3: { weight: 0, condition: 'user-agent == Firefox', conditionStrength: 50, targets: [target('v3')] },
    },
  });
  await sys.live('cond');
  const url = `http://127.0.0.1:${port}/`;
  const plain = await runLoad({ url, requests: 200, concurrency: 4 });
  assert.deepEqual(plain.counts, { v1: 200 });
  const header = await runLoad({ url, requests: 200, concurrency: 4, headers: { 'x-canary': 'yes' } });
  assert.deepEqual(header.counts, { v2: 200 });
  const otherHeader = await runLoad({ url, requests: 50, concurrency: 4, headers: { 'x-canary': 'no' } });
  assert.deepEqual(otherHeader.counts, { v1: 50 });
  const cookie = await runLoad({ url, requests: 200, concurrency: 4, headers: { cookie: 'a=1; group=beta' } });
  assert.deepEqual(cookie.counts, { v2: 200 });
  const n = 2000;
  const ff = await runLoad({
    url,
    requests: n,
    concurrency: 8,
    headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0' },
  });
  assert.equal(ff.failures, 0);
  assert.ok(withinSigma(ff.counts.v3 ?? 0, n, 0.5), `strength 50: v3 got ${ff.counts.v3} of ${n}`);
  assert.equal((ff.counts.v3 ?? 0) + (ff.counts.v1 ?? 0), n, 'the rest follows the weights (v1 100%)');
});

test('a condition value with quotes and HAProxy syntax matches literally', async () => {
  const port = await freePort();
  const tricky = `it's "x" #1 \\ $HOME`;
  await sys.service.put('quoted', {
    port,
    routes: {
      v1: { weight: 100, targets: [target('v1')] },
      v2: { weight: 0, condition: `header X-Team == '${tricky.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`, targets: [target('v2')] },
    },
  });
  await sys.live('quoted');
  assert.equal((await fetchOnce(`http://127.0.0.1:${port}/`, { 'x-team': tricky })).body, 'v2');
  assert.equal((await fetchOnce(`http://127.0.0.1:${port}/`, { 'x-team': 'it' })).body, 'v1');
});

test('sticky route and sticky instance cookies keep a client where it landed', async () => {
  const port = await freePort();
  await sys.service.put('sticky', {
    port,
    sticky: 'instance',
    routes: { a: { weight: 50, targets: [target('v1')] }, b: { weight: 50, targets: [target('v2'), target('v2b')] } },
  });
  await sys.live('sticky');
  const url = `http://127.0.0.1:${port}/`;
  for (let client = 0; client < 4; client++) {
    const first = await fetchOnce(url);
    const cookies = ([] as string[]).concat(first.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]);
    assert.ok(
      cookies.some((c) => c.startsWith('veer-sticky-route=')),
      `route cookie set: ${cookies}`,
    );
    const bodies = new Set<string>();
    for (let i = 0; i < 20; i++) bodies.add((await fetchOnce(url, { cookie: cookies.join('; ') })).body);
    assert.deepEqual([...bodies], [first.body], 'every later request lands on the same backend');
  }
  // Without cookies, traffic still spreads over both routes and both instances of b.
  const spread = await runLoad({ url, requests: 400, concurrency: 4 });
  assert.deepEqual(Object.keys(spread.counts).sort(), ['v1', 'v2', 'v2b']);
});

test('50 weight changes during continuous traffic: zero failed requests, no reload, final split exact', async () => {
  const port = await freePort();
  await sys.service.put('canary', { port, routes: { v1: { weight: 100, targets: [target('v1')] }, v2: { weight: 0, targets: [target('v2')] } } });
  await sys.live('canary');
  const reloads = sys.haproxy.reloads;
  const url = `http://127.0.0.1:${port}/`;
  const keepAlive = startLoad({ url, concurrency: 4, keepAlive: true });
  const closing = startLoad({ url, concurrency: 2, keepAlive: false });
  for (let i = 1; i <= 50; i++) {
    const w = (i * 7) % 101;
    await sys.service.setWeights('canary', { v1: 100 - w, v2: w });
    await sys.live('canary');
  }
  await sys.service.setWeights('canary', { v1: 80, v2: 20 });
  await sys.live('canary');
  const [a, b] = [await keepAlive.stop(), await closing.stop()];
  assert.equal(a.failures + b.failures, 0, JSON.stringify({ ...a.errors, ...b.errors }));
  assert.ok(a.requests + b.requests > 100, `traffic flowed (${a.requests + b.requests} requests)`);
  assert.equal(sys.haproxy.reloads, reloads, 'weight changes went through the runtime API');
  const final = await runLoad({ url, requests: 1000, concurrency: 5 });
  assert.ok(withinSigma(final.counts.v2 ?? 0, 1000, 0.2), `v2 got ${final.counts.v2} of 1000 at 20%`);
});

test('structural changes (add a route, sticky, remove) reload HAProxy, retargets go through the runtime API, zero failed requests', async () => {
  const port = await freePort();
  await sys.service.put('grow', { port, routes: { v1: { weight: 100, targets: [target('v1')] } } });
  await sys.live('grow');
  const reloads = sys.haproxy.reloads;
  const serverChanges = sys.agent.status().haproxy.serverChanges ?? 0;
  const url = `http://127.0.0.1:${port}/`;
  const keepAlive = startLoad({ url, concurrency: 4, keepAlive: true });
  const closing = startLoad({ url, concurrency: 2, keepAlive: false });
  await waitFor(() => keepAlive.snapshot().requests > 50, { what: 'traffic before the change' });
  await sys.service.update('grow', { routes: { v1: { weight: 50 }, v3: { weight: 50, targets: [target('v3')] } } });
  await sys.live('grow');
  await waitFor(() => (keepAlive.snapshot().counts.v3 ?? 0) > 20, { what: 'traffic on the new route' });
  const changes: GatewayPatch[] = [
    // Only route servers change: dynamic servers, no reload (v2 in and v3 out, then v3 back).
    { routes: { v3: { targets: [target('v2')] } } },
    { routes: { v3: { targets: [target('v3'), target('v2')] } } },
    { sticky: 'route' },
    { routes: { v3: null, v1: { weight: 100 } } },
    { routes: { v3: { weight: 50, targets: [target('v3')] }, v1: { weight: 50 } }, sticky: 'none' },
  ];
  for (const change of changes) {
    const before = keepAlive.snapshot().requests + closing.snapshot().requests;
    await sys.service.update('grow', change);
    await sys.live('grow');
    await waitFor(() => keepAlive.snapshot().requests + closing.snapshot().requests > before + 30, { what: 'traffic after the change' });
  }
  const [a, b] = [await keepAlive.stop(), await closing.stop()];
  assert.equal(a.failures + b.failures, 0, JSON.stringify({ ...a.errors, ...b.errors }));
  assert.ok(sys.haproxy.reloads >= reloads + 1 + 3, 'structural changes need reloads');
  assert.equal(sys.agent.status().haproxy.serverChanges, serverChanges + 3, 'the retargets went through the runtime API');
  const after = await runLoad({ url, requests: 400, concurrency: 4 });
  assert.deepEqual(after.counts, { v1: 200, v3: 200 });
});

test('virtual hosts: only the listed Host names are served', async () => {
  const port = await freePort();
  await sys.service.put('vhost', { port, virtualHosts: ['shop.example.com'], routes: { v1: { targets: [target('v1')] } } });
  await sys.live('vhost');
  assert.equal((await fetchOnce(`http://127.0.0.1:${port}/`, { host: `shop.example.com:${port}` })).body, 'v1');
  assert.equal((await fetchOnce(`http://127.0.0.1:${port}/`, { host: 'other.example.com' })).status, 404);
});

test('status shows the applied revision; deleting a gateway closes its port', async () => {
  const port = await freePort();
  const g = await sys.service.put('gone', { port, routes: { v1: { targets: [target('v1')] } } });
  await sys.live('gone');
  const st = await sys.service.status('gone');
  assert.equal(st.agents[0].agentId, 'test-agent');
  assert.equal(st.agents[0].appliedRevision, g.revision);
  assert.equal((await fetchOnce(`http://127.0.0.1:${port}/`)).body, 'v1');
  await sys.service.delete('gone');
  await waitFor(
    async () => {
      try {
        await fetchOnce(`http://127.0.0.1:${port}/`);
        return false;
      } catch {
        return true;
      }
    },
    { what: 'port closed after delete' },
  );
});

test('a gateway whose port is taken by another process is reported; the others keep working', async () => {
  const busy = await startHttpBackends(['squatter']);
  try {
    const port = await freePort();
    await sys.service.put('okay', { port, routes: { v1: { targets: [target('v1')] } } });
    await sys.service.put('clash', { port: busy[0].port, routes: { v1: { targets: [target('v1')] } } });
    await sys.live('okay');
    await waitFor(async () => (await sys.service.status('clash')).agents[0]?.error, { what: 'clash reported' });
    const st = await sys.service.status('clash');
    assert.match(st.agents[0].error!, /bind|Address already in use/i);
    assert.equal(st.live, false);
    assert.equal((await fetchOnce(`http://127.0.0.1:${port}/`)).body, 'v1');
    await sys.service.delete('clash');
  } finally {
    await busy[0].close();
  }
});
