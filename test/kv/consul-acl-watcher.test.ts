import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createConsulKvStore } from '../../adapters/kv/consul.ts';
import { createGatewayWatcher, type StoredGateway } from '../../adapters/gateway-agent/gateway-watcher.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { startConsulDouble } from '../doubles/consul.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * The symptom behind the Consul ACL items: a token that loses read on the gateways got an
 * empty (filtered) list, which the agent took as "every gateway deleted" and tore them all
 * down. Now the agent keeps serving the last gateways and reports the store error.
 */
describe('gateway watcher on Consul when the token loses read', () => {
  it('keeps the last gateways and reports KV.FORBIDDEN instead of removing them', async () => {
    const consul = await startConsulDouble({ tokens: { agent: [{ prefix: 'veer/', policy: 'write' }], admin: [{ prefix: '', policy: 'write' }] } });
    const kv = createConsulKvStore({ url: consul.url, token: 'agent', watchWaitMs: 60_000 });
    const admin = createConsulKvStore({ url: consul.url, token: 'admin' });
    const states: number[] = [];
    const errors: string[] = [];
    const watcher = createGatewayWatcher({
      kv,
      logger: silentLogger(),
      onChange: (g: ReadonlyMap<string, StoredGateway>) => states.push(g.size),
      onConnection: (ok, err) => {
        if (!ok) errors.push(String((err as { code?: string })?.code));
      },
      retryMinMs: 20,
      retryMaxMs: 50,
    });
    try {
      await admin.put('gateways/a', '{}');
      await admin.put('gateways/b', '{}');
      await watcher.start();
      await waitFor(() => states.at(-1) === 2, { what: 'both gateways' });
      consul.setRules('agent', [
        { prefix: 'veer/', policy: 'write' },
        { prefix: 'veer/gateways', policy: 'deny' },
      ]);
      await admin.put('gateways/c', '{}'); // wakes the blocking query
      await waitFor(() => errors.length >= 2 || states.some((n) => n < 2), { what: 'the error reported (watch, then the re-list)' });
      assert.ok(!states.some((n) => n < 2), `the agent was handed fewer gateways: ${JSON.stringify(states)}`);
      assert.deepEqual(new Set(errors), new Set(['KV.FORBIDDEN']));
    } finally {
      await watcher.close();
      await kv.close();
      await admin.close();
      await consul.stop();
    }
  });
});
