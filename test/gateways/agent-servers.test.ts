import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { configPath, stateFilePath } from '../../adapters/gateway-agent/render.ts';
import { freePort } from '../helpers/free-port.ts';
import { startHttpBackends, type HttpBackend } from '../helpers/http-backends.ts';
import { runLoad, startLoad } from '../helpers/load.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startAgentSystem, type AgentSystem } from './agent-system.ts';
import { createMemoryKv } from './memory-kv.ts';

/**
 * Route servers coming and going (a deployment scaling) through HAProxy's runtime API:
 * real HAProxy 2.6, the agent with an injected resolver whose answer the tests change.
 */

let sys: AgentSystem;
let backends: HttpBackend[];
const kv = createMemoryKv();
const resolved = new Map<string, Array<{ host: string; port: number }>>();
const resolveTargets = async (deployment: string, port: string | number) => (port === 'http' ? (resolved.get(deployment) ?? []) : []);

before(async () => {
  backends = await startHttpBackends(['d1', 'd2', 'd3']);
  sys = await startAgentSystem({ agentKv: kv, serviceKv: kv, resolveTargets });
});
after(async () => {
  await sys?.stop();
  await Promise.all((backends ?? []).map((b) => b.close()));
});
const backend = (name: string) => backends.find((b) => b.name === name)!;
const target = (name: string) => ({ host: '127.0.0.1', port: backend(name).port });

/** `server` lines of one backend in a rendered haproxy.cfg. */
const serversIn = (config: string, name: string) => {
  const section = config.split(/\n(?=\S)/).find((s) => s.startsWith(`backend ${name}\n`)) ?? '';
  return [...section.matchAll(/^\s+server (\S+) /gm)].map((m) => m[1]).sort();
};

/** Re-resolve now (what the endpoint watcher does) and wait until it is applied. */
const rescale = async (a: AgentSystem, deployment: string, to: string[]) => {
  resolved.set(deployment, to.map(target));
  a.agent.refresh();
  await a.agent.idle();
};

test('instances coming and going change HAProxy servers at runtime: no reload, no failed request', async () => {
  const port = await freePort();
  resolved.set('elastic', [target('d1')]);
  await sys.service.put('elastic', { port, routes: { main: { targets: { deployment: 'elastic', port: 'http' } } } });
  await sys.live('elastic');
  const reloads = sys.haproxy.reloads;
  const pid = await sys.haproxy.pid();
  const changes = sys.agent.status().haproxy.serverChanges ?? 0;
  const url = `http://127.0.0.1:${port}/`;
  const keepAlive = startLoad({ url, concurrency: 4, keepAlive: true });
  const closing = startLoad({ url, concurrency: 2, keepAlive: false });
  const total = () => keepAlive.snapshot().requests + closing.snapshot().requests;
  const served = (name: string) => (keepAlive.snapshot().counts[name] ?? 0) + (closing.snapshot().counts[name] ?? 0);
  await waitFor(() => served('d1') > 50, { what: 'traffic on d1' });

  // Scale up: d2 and d3 join.
  await rescale(sys, 'elastic', ['d1', 'd2', 'd3']);
  assert.equal(sys.haproxy.reloads, reloads, 'servers added without a reload');
  assert.equal(sys.agent.status().haproxy.serverChanges, changes + 2);
  await waitFor(() => served('d2') > 20 && served('d3') > 20, { what: 'traffic on the added servers' });

  // Scale down: d1 and d3 leave. Once applied, HAProxy has deleted them (no connection left),
  // so the backends' own counters must not move any more.
  await rescale(sys, 'elastic', ['d2']);
  const hits = { d1: backend('d1').hits, d3: backend('d3').hits };
  const from = total();
  await waitFor(() => total() > from + 300, { what: '300 requests after the scale-down' });
  const [a, b] = [await keepAlive.stop(), await closing.stop()];
  assert.equal(a.failures + b.failures, 0, JSON.stringify({ ...a.errors, ...b.errors }));
  assert.deepEqual({ d1: backend('d1').hits, d3: backend('d3').hits }, hits, 'removed servers get no more requests');
  assert.equal(sys.haproxy.reloads, reloads, 'servers removed without a reload');
  assert.equal(await sys.haproxy.pid(), pid, 'the same HAProxy process served throughout');
  assert.equal(sys.agent.status().haproxy.serverChanges, changes + 4);

  // The config on disk and the server-state file follow, so a reload or restart starts right.
  const config = await readFile(configPath(sys.dir), 'utf8');
  assert.deepEqual(serversIn(config, 'r.elastic.main'), [`127.0.0.1:${backend('d2').port}`]);
  const state = await readFile(stateFilePath(sys.dir), 'utf8');
  assert.match(state, new RegExp(` r\\.elastic\\.main \\d+ 127\\.0\\.0\\.1:${backend('d2').port} `), 'state file has the remaining server');
  assert.ok(!state.includes(`127.0.0.1:${backend('d1').port} `) && !state.includes(`127.0.0.1:${backend('d3').port} `), 'state file has no removed server');

  // A structural change reloads, from that config: still only d2.
  await sys.service.update('elastic', { sticky: 'route' });
  await sys.live('elastic');
  assert.ok(sys.haproxy.reloads > reloads);
  const r = await runLoad({ url, requests: 100, concurrency: 4 });
  assert.deepEqual(r.counts, { d2: 100 });
});

test('a removed server still busy after the drain timeout is taken out by a reload; its connection is not cut', async () => {
  // Its own store: two agents on one store would both serve (and bind) every gateway.
  const ownKv = createMemoryKv();
  const own = await startAgentSystem({ agentKv: ownKv, serviceKv: ownKv, resolveTargets, agentId: 'busy-agent', drainTimeoutMs: 200 });
  let held: Socket | undefined;
  try {
    const port = await freePort();
    resolved.set('held', [target('d1')]);
    await own.service.put('held', { port, mode: 'tcp', routes: { main: { targets: { deployment: 'held', port: 'http' } } } });
    await own.live('held');
    // A long-lived connection through the gateway to d1 (tcp mode: the whole connection is one session).
    let received = '';
    held = connect(port, '127.0.0.1');
    held.setEncoding('utf8');
    held.on('data', (d: string) => (received += d));
    const ask = () => held!.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    ask();
    await waitFor(() => received.includes('x-backend: d1'), { what: 'first answer on the held connection' });

    const reloads = own.haproxy.reloads;
    const changes = own.agent.status().haproxy.serverChanges ?? 0;
    await rescale(own, 'held', ['d2']);
    assert.equal(own.haproxy.reloads, reloads + 1, 'the busy removal fell back to a reload');
    assert.equal(own.agent.status().haproxy.serverChanges, changes, 'not counted as a runtime change');
    const config = await readFile(configPath(own.dir), 'utf8');
    assert.deepEqual(serversIn(config, 'r.held.main'), [`127.0.0.1:${backend('d2').port}`]);
    const r = await runLoad({ url: `http://127.0.0.1:${port}/`, requests: 20, concurrency: 2, keepAlive: false });
    assert.deepEqual(r.counts, { d2: 20 }, 'new connections go to the remaining server');

    received = '';
    ask();
    await waitFor(() => received.includes('x-backend: d1'), { what: 'the held connection still answered by d1' });
  } finally {
    held?.destroy();
    await own.stop();
  }
});

test('what HAProxy cannot change at runtime (sticky instance cookies) reloads, and still serves the new server', async () => {
  const port = await freePort();
  resolved.set('pinned', [target('d1')]);
  await sys.service.put('pinned', { port, sticky: 'instance', routes: { main: { targets: { deployment: 'pinned', port: 'http' } } } });
  await sys.live('pinned');
  const reloads = sys.haproxy.reloads;
  const changes = sys.agent.status().haproxy.serverChanges;
  await rescale(sys, 'pinned', ['d1', 'd2']);
  assert.equal(sys.haproxy.reloads, reloads + 1);
  assert.equal(sys.agent.status().haproxy.serverChanges, changes);
  const r = await runLoad({ url: `http://127.0.0.1:${port}/`, requests: 40, concurrency: 2, keepAlive: false });
  assert.deepEqual(r.counts, { d1: 20, d2: 20 });
});
