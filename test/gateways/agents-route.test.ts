import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { agentKey, type AgentStatus } from '../../engine/domain/gateways/keys.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/** GET /api/v1/agents: the dashboard's Overview lists every gateway agent and what it serves. */
describe('GET /api/v1/agents', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(async () => {
    await t?.stop();
  });

  const status = (agentId: string, heartbeatAt: Date, gateways: AgentStatus['gateways'], running = true): AgentStatus => ({
    agentId,
    heartbeatAt: heartbeatAt.toISOString(),
    heartbeatIntervalMs: 5000,
    startedAt: heartbeatAt.toISOString(),
    kv: { kind: 'redis', connected: true },
    haproxy: { running, reloads: 0 },
    gateways,
  });

  it('lists live and silent agents, newest heartbeat first, with the revision each serves and why one could not be applied', async () => {
    const now = Date.now();
    await t.system.kv.put(agentKey('edge-1'), JSON.stringify(status('edge-1', new Date(now), { shop: { appliedRevision: '7' } })));
    await t.system.kv.put(
      agentKey('edge-2'),
      JSON.stringify(status('edge-2', new Date(now - 120_000), { shop: { appliedRevision: '6', error: 'port 80 in use', failedRevision: '7' } }, false)),
    );
    await t.system.kv.put(agentKey('garbage'), 'not json');
    const res = await t.call('GET', '/api/v1/agents');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.agents, [
      { agentId: 'edge-1', heartbeatAt: new Date(now).toISOString(), alive: true, haproxyRunning: true, gateways: { shop: { appliedRevision: '7' } } },
      {
        agentId: 'edge-2',
        heartbeatAt: new Date(now - 120_000).toISOString(),
        alive: false,
        haproxyRunning: false,
        gateways: { shop: { appliedRevision: '6', error: 'port 80 in use' } },
      },
    ]);
  });
});
