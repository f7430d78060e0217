import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startConsulDouble, type ConsulDouble } from './consul.ts';

/** The double's own checks of the documented Consul KV HTTP behaviour the adapter relies on. */
describe('Consul KV double', () => {
  let consul: ConsulDouble;
  before(async () => {
    consul = await startConsulDouble();
  });
  after(async () => {
    await consul?.stop();
  });
  const http = (method: string, path: string, body?: string) => fetch(`${consul.url}${path}`, { method, body });

  it('answers 404 with an index for a missing key, and true/false for PUT with cas', async () => {
    const missing = await http('GET', '/v1/kv/d/a');
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('x-consul-index') ?? '', /^\d+$/);
    assert.equal(missing.headers.get('x-consul-knownleader'), 'true');
    assert.equal(await (await http('PUT', '/v1/kv/d/a?cas=0', 'one')).json(), true);
    assert.equal(await (await http('PUT', '/v1/kv/d/a?cas=0', 'two')).json(), false);
    const [item] = (await (await http('GET', '/v1/kv/d/a')).json()) as any[];
    assert.deepEqual(Object.keys(item).sort(), ['CreateIndex', 'Flags', 'Key', 'LockIndex', 'ModifyIndex', 'Value']);
    assert.equal(Buffer.from(item.Value, 'base64').toString(), 'one');
    assert.equal(await (await http('PUT', `/v1/kv/d/a?cas=${item.ModifyIndex}`, 'two')).json(), true);
    assert.equal(await (await http('GET', '/v1/kv/d/a?raw')).text(), 'two');
    assert.deepEqual(await (await http('GET', '/v1/kv/d/?keys')).json(), ['d/a']);
  });

  it('holds a blocking query until the index passes, and returns the same index after wait', async () => {
    const first = await http('GET', '/v1/kv/b/?recurse');
    const index = Number(first.headers.get('x-consul-index'));
    const timedOut = await http('GET', `/v1/kv/b/?recurse&index=${consul.index()}&wait=50ms`);
    assert.equal(timedOut.status, 404);
    const blocked = http('GET', `/v1/kv/b/?recurse&index=${consul.index()}&wait=10s`);
    await http('PUT', '/v1/kv/b/x', 'v');
    const res = await blocked;
    assert.ok(Number(res.headers.get('x-consul-index')) > index);
    assert.deepEqual(
      ((await res.json()) as any[]).map((e: { Key: string }) => e.Key),
      ['b/x'],
    );
    // A delete raises the prefix's index too (tombstone), so watchers see it.
    const before = consul.index();
    const afterDelete = http('GET', `/v1/kv/b/?recurse&index=${before}&wait=10s`);
    assert.equal(await (await http('DELETE', '/v1/kv/b/x')).json(), true);
    assert.equal((await afterDelete).status, 404);
  });

  it('applies a transaction atomically or not at all', async () => {
    const ok = await http('PUT', '/v1/txn', JSON.stringify([{ KV: { Verb: 'set', Key: 't/a', Value: Buffer.from('1').toString('base64') } }]));
    assert.equal(ok.status, 200);
    const { Results } = (await ok.json()) as any;
    const index = Results[0].KV.ModifyIndex;
    const failed = await http(
      'PUT',
      '/v1/txn',
      JSON.stringify([{ KV: { Verb: 'set', Key: 't/b', Value: '' } }, { KV: { Verb: 'cas', Key: 't/a', Value: '', Index: index + 100 } }]),
    );
    assert.equal(failed.status, 409);
    assert.equal(((await failed.json()) as any).Errors[0].OpIndex, 1);
    assert.equal((await http('GET', '/v1/kv/t/b')).status, 404);
  });
});
