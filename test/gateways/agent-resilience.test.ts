import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { createGatewayAgent } from '../../adapters/gateway-agent/agent.ts';
import { createHaproxyProcess } from '../../adapters/gateway-agent/haproxy-process.ts';
import { gatewayKey } from '../../engine/domain/gateways/keys.ts';
import { createGatewayService } from '../../engine/gateways/service.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { haproxyBin, haproxyWorkDir } from '../helpers/haproxy.ts';
import { freePort } from '../helpers/free-port.ts';
import { startHttpBackends, type HttpBackend } from '../helpers/http-backends.ts';
import { fetchOnce, runLoad, startLoad } from '../helpers/load.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startAgentSystem, type AgentSystem } from './agent-system.ts';
import { createMemoryKv } from './memory-kv.ts';

/** Agent behaviour that needs no particular KV store: real HAProxy, in-memory store. */

let sys: AgentSystem;
let backends: HttpBackend[];
const kv = createMemoryKv();
const resolved = new Map<string, Array<{ host: string; port: number }>>();

before(async () => {
  backends = await startHttpBackends(['v1', 'v2', 'd1', 'd2']);
  sys = await startAgentSystem({
    agentKv: kv,
    serviceKv: kv,
    resolveTargets: async (deployment, port) => (port === 'http' ? (resolved.get(deployment) ?? []) : []),
  });
});
after(async () => {
  await sys?.stop();
  await Promise.all((backends ?? []).map((b) => b.close()));
});
const target = (name: string) => ({ host: '127.0.0.1', port: backends.find((b) => b.name === name)!.port });

test('a broken gateway in the store keeps its last good version serving and is reported; others still apply', async () => {
  const port = await freePort();
  const good = await sys.service.put('good', { port, routes: { v1: { targets: [target('v1')] } } });
  await sys.live('good');
  const badRevision = await kv.put(gatewayKey('good'), JSON.stringify({ port, routes: { v1: { weight: 50, targets: [target('v1')] } } }));
  await waitFor(() => sys.agent.status().gateways.good?.failedRevision === badRevision, { what: 'bad revision reported' });
  const st = sys.agent.status().gateways.good;
  assert.match(st.error!, /add up to 100/);
  assert.equal(st.appliedRevision, good.revision, 'the previous revision keeps serving');
  assert.equal((await fetchOnce(`http://127.0.0.1:${port}/`)).body, 'v1');
  const apiStatus = await sys.service.status('good');
  assert.equal(apiStatus.revision, badRevision);
  assert.equal(apiStatus.live, false, 'the API shows the stored revision is not live');
  await assert.rejects(
    sys.service.get('good'),
    /gateway 'good' in the memory store \(revision \d+\) is invalid — replace it with PUT \/gateways\/good: routes: route weights must add up to 100/,
  );

  const otherPort = await freePort();
  await sys.service.put('other', { port: otherPort, routes: { v2: { targets: [target('v2')] } } });
  await sys.live('other');
  assert.equal((await fetchOnce(`http://127.0.0.1:${otherPort}/`)).body, 'v2');

  await sys.service.put('good', { port, routes: { v2: { targets: [target('v2')] } } });
  await sys.live('good');
  assert.equal((await fetchOnce(`http://127.0.0.1:${port}/`)).body, 'v2', 'a fixed version applies');
  assert.equal(sys.agent.status().gateways.good.error, undefined);
});

test('deployment targets are resolved by the injected resolver; unresolved routes are reported', async () => {
  const port = await freePort();
  await sys.service.put('deployed', {
    port,
    routes: {
      stable: { weight: 100, targets: { deployment: 'shop-v1', port: 'http' } },
      next: { weight: 0, targets: { deployment: 'shop-v2', port: 'http' } },
    },
  });
  await sys.live('deployed');
  assert.deepEqual((await sys.service.status('deployed')).agents[0].routesWithoutTargets, ['stable', 'next'], 'nothing resolved yet');
  // The deployment comes up: the agent re-resolves on its own.
  resolved.set('shop-v1', [target('d1'), target('d2')]);
  await waitFor(async () => (await sys.service.status('deployed')).agents[0].routesWithoutTargets?.join() === 'next', { what: 'stable resolved' });
  const r = await runLoad({ url: `http://127.0.0.1:${port}/`, requests: 100, concurrency: 2 });
  assert.deepEqual(r.counts, { d1: 50, d2: 50 });
});

test('a route with weight but no servers yet is held at 0: its share goes to the routes with servers, not to 503s', async () => {
  // A canary stepped to 10 % before its instances are up (or before this agent re-resolved them):
  // without the hold, one request in ten would be a 503 from a backend with no server.
  const port = await freePort();
  resolved.set('held-v1', [target('d1')]);
  await sys.service.put('held', {
    port,
    routes: {
      stable: { weight: 90, targets: { deployment: 'held-v1', port: 'http' } },
      canary: { weight: 10, targets: { deployment: 'held-v2', port: 'http' } },
    },
  });
  await sys.live('held');
  const agentStatus = async () => (await sys.service.status('held')).agents[0]!;
  assert.deepEqual((await agentStatus()).routesHeld, ['canary']);
  assert.deepEqual((await agentStatus()).routesWithoutTargets, ['canary']);
  const before = await runLoad({ url: `http://127.0.0.1:${port}/`, requests: 100, concurrency: 2 });
  assert.deepEqual(before.counts, { d1: 100 }, 'every request served by stable, none failed');
  // The canary's instances come up: the agent re-resolves on its heartbeat and the stored weights apply.
  resolved.set('held-v2', [target('d2')]);
  await waitFor(async () => (await agentStatus()).routesHeld === undefined, { what: 'the canary released from the hold' });
  const after = await runLoad({ url: `http://127.0.0.1:${port}/`, requests: 100, concurrency: 2 });
  assert.deepEqual(after.counts, { d1: 90, d2: 10 });
});

test('with no other route to take the share, nothing is held (the route answers 503, reported)', async () => {
  const port = await freePort();
  await sys.service.put('unheld', {
    port,
    routes: {
      only: { weight: 100, targets: { deployment: 'unheld-v1', port: 'http' } },
      off: { weight: 0, targets: [target('v1')] },
    },
  });
  await sys.live('unheld');
  const status = (await sys.service.status('unheld')).agents[0]!;
  assert.deepEqual(status.routesWithoutTargets, ['only']);
  assert.equal(status.routesHeld, undefined);
  assert.equal((await fetchOnce(`http://127.0.0.1:${port}/`)).status, 503);
});

test('tcp gateways split connections by weight', async () => {
  const port = await freePort();
  await sys.service.put('raw', { port, mode: 'tcp', routes: { a: { weight: 50, targets: [target('v1')] }, b: { weight: 50, targets: [target('v2')] } } });
  await sys.live('raw');
  const r = await runLoad({ url: `http://127.0.0.1:${port}/`, requests: 200, concurrency: 2, keepAlive: false });
  assert.deepEqual(r.counts, { v1: 100, v2: 100 });
  await waitFor(() => sys.records.some((x) => x.gateway === 'raw' && x.mode === 'tcp' && x.route === 'a'), { what: 'tcp log records' });
});

test('if HAProxy dies the agent starts it again with the last applied gateways', async () => {
  const port = await freePort();
  await sys.service.put('phoenix', { port, routes: { v1: { targets: [target('v1')] } } });
  await sys.live('phoenix');
  const pid = (await sys.haproxy.pid())!;
  process.kill(pid, 'SIGKILL');
  await waitFor(async () => (await sys.haproxy.pid()) !== pid && (await sys.haproxy.running()), { what: 'HAProxy restarted' });
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      }),
    { what: 'gateway port open again' },
  );
  assert.equal((await fetchOnce(`http://127.0.0.1:${port}/`)).body, 'v1');
});

test('a restarted agent adopts the running HAProxy without dropping traffic', async () => {
  const dir = await haproxyWorkDir();
  const logger = silentLogger();
  const haproxy = createHaproxyProcess({ bin: haproxyBin(), dir: dir.path, logger });
  const render = { dir: dir.path, bindAddress: '127.0.0.1', statsPort: await freePort(), hardStopAfter: '10s' };
  // Its own store: a second agent on the same store would compete for the same ports.
  const ownKv = createMemoryKv();
  const service = createGatewayService({ kv: ownKv, logger });
  const make = () => createGatewayAgent({ kv: ownKv, logger, agentId: 'adopt', haproxy, render, heartbeatMs: 300, stopHaproxy: false });
  let agent = make();
  try {
    await agent.start();
    const port = await freePort();
    const g = await service.put('adopted', { port, routes: { v1: { targets: [target('v1')] } } });
    await waitFor(() => agent.status().gateways.adopted?.appliedRevision === g.revision, { what: 'first agent applied' });
    const pid = await haproxy.pid();
    const load = startLoad({ url: `http://127.0.0.1:${port}/`, concurrency: 2, keepAlive: false });
    await agent.close();
    assert.equal(await haproxy.running(), true, 'HAProxy keeps serving without its agent');
    assert.equal(await haproxy.pid(), pid);
    agent = make();
    await agent.start();
    const g2 = await service.setWeights('adopted', { v1: 100 });
    const g3 = await service.update('adopted', { routes: { v2: { weight: 50, targets: [target('v2')] }, v1: { weight: 50 } } });
    await waitFor(() => agent.status().gateways.adopted?.appliedRevision === g3.revision, { what: `second agent applied (${g2.revision})` });
    await waitFor(() => (load.snapshot().counts.v2 ?? 0) > 10, { what: 'traffic on the route the new agent added' });
    const r = await load.stop();
    assert.equal(r.failures, 0, JSON.stringify(r.errors));
  } finally {
    await agent.close();
    await haproxy.stop();
    await dir.remove();
  }
});
