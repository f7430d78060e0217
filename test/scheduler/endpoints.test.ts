import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTargetResolver, resolveEndpoints, watchAllEndpoints, watchEndpoints } from '../../adapters/scheduler/endpoints.ts';
import { createMemoryScheduler } from '../deployments/memory-scheduler.ts';
import { waitFor } from '../helpers/wait-for.ts';

const eps = (...xs: Array<[number, boolean, string?]>) => xs.map(([port, ready, name]) => ({ host: '127.0.0.1', port, ready, ...(name ? { name } : {}) }));

describe('deployment endpoints for gateways', () => {
  it('resolves only ready endpoints, filtered by port name; unnamed endpoints always match', async () => {
    const s = createMemoryScheduler([
      { name: 'shop', endpoints: eps([9002, true, 'http'], [9001, true, 'http'], [9003, false, 'http'], [9100, true, 'admin']) },
      { name: 'plain', endpoints: eps([9200, true]) },
    ]);
    assert.deepEqual(await resolveEndpoints(s, 'shop', 'http'), [
      { host: '127.0.0.1', port: 9001 },
      { host: '127.0.0.1', port: 9002 },
    ]);
    assert.equal((await resolveEndpoints(s, 'shop')).length, 3);
    assert.deepEqual(await createTargetResolver(s)('plain', 'http'), [{ host: '127.0.0.1', port: 9200 }]);
    await assert.rejects(resolveEndpoints(s, 'nope'), { code: 'SCHEDULER.NOT_FOUND' });
  });

  it('watchers report at start and on every change of the ready set, until aborted', async () => {
    const s = createMemoryScheduler([
      { name: 'shop', endpoints: eps([9001, true]) },
      { name: 'cart', endpoints: [] },
    ]);
    const ac = new AbortController();
    const seen: string[] = [];
    const changed: string[][] = [];
    const one = watchEndpoints(s, 'shop', (e) => void seen.push(e.map((x) => x.port).join(',')), { intervalMs: 5, signal: ac.signal });
    const all = watchAllEndpoints(s, (names) => void changed.push(names), { intervalMs: 5, signal: ac.signal });
    await waitFor(() => seen.length === 1 && changed.length === 1, { what: 'initial report' });
    s.setEndpoints('shop', eps([9001, true], [9002, false]));
    s.setEndpoints('cart', eps([9100, false]));
    // Not-ready additions change nothing; a newly ready one does.
    s.setEndpoints('shop', eps([9001, true], [9002, true]));
    await waitFor(() => seen.length === 2 && changed.length === 2, { what: 'change reported' });
    ac.abort();
    await Promise.all([one, all]);
    assert.deepEqual(seen, ['9001', '9001,9002']);
    assert.deepEqual(changed, [['cart', 'shop'], ['shop']]);
  });
});
