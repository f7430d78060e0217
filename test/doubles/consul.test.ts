import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../helpers/wait-for.ts';
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

  it('answers 413 for a txn body over 512 KiB or more than 64 ops, as agent/txn_endpoint.go does', async () => {
    const big = JSON.stringify([{ KV: { Verb: 'set', Key: 't/big', Value: Buffer.alloc(400 * 1024).toString('base64') } }]);
    const tooBig = await http('PUT', '/v1/txn', big);
    assert.equal(tooBig.status, 413);
    assert.equal(await tooBig.text(), 'Request body too large, max size: 524288 bytes');
    const ops = JSON.stringify(Array.from({ length: 65 }, (_, i) => ({ KV: { Verb: 'get', Key: `t/${i}` } })));
    assert.equal((await http('PUT', '/v1/txn', ops)).status, 413);
  });

  it('wakes a held blocking query with the lower index when a snapshot is restored', async () => {
    const snap = consul.snapshot();
    await http('PUT', '/v1/kv/r/x', 'v');
    const index = consul.index();
    const held = http('GET', `/v1/kv/r/?recurse&index=${index}&wait=30s`);
    await waitFor(() => consul.blocking() === 1, { timeoutMs: 5000, what: 'the query to be held' });
    consul.restore(snap);
    const res = await held;
    assert.ok(Number(res.headers.get('x-consul-index')) < index);
    assert.equal(res.status, 404);
  });
});

describe('Consul KV double: ACLs', () => {
  let consul: ConsulDouble;
  before(async () => {
    consul = await startConsulDouble({
      tokens: {
        root: [{ prefix: '', policy: 'write' }],
        app: [
          { prefix: 'a/', policy: 'write' },
          { prefix: 'a/secret', policy: 'deny' },
        ],
      },
      anonymous: [
        { prefix: 'a/', policy: 'read' },
        { prefix: 'a/secret', policy: 'deny' },
      ],
      jitter: 'max',
    });
    for (const k of ['a/open', 'a/secret']) await req('root', 'PUT', `/v1/kv/${k}`, 'v');
  });
  after(async () => {
    await consul?.stop();
  });
  const req = (token: string | undefined, method: string, path: string, body?: string) =>
    fetch(`${consul.url}${path}`, { method, body, headers: token ? { 'X-Consul-Token': token } : {} });

  it('filters a recursive read, with the header only for a non-anonymous token, and refuses a single-key read', async () => {
    const app = await req('app', 'GET', '/v1/kv/a/?recurse');
    assert.equal(app.status, 200);
    assert.equal(app.headers.get('x-consul-results-filtered-by-acls'), 'true');
    assert.deepEqual(
      ((await app.json()) as any[]).map((e) => e.Key),
      ['a/open'],
    );
    const anon = await req(undefined, 'GET', '/v1/kv/a/?recurse');
    assert.equal(anon.headers.get('x-consul-results-filtered-by-acls'), null);
    const hidden = await req('app', 'GET', '/v1/kv/a/secret?recurse');
    assert.equal(hidden.status, 404, 'nothing visible: 404, not 403');
    assert.equal((await req('app', 'GET', '/v1/kv/a/secret')).status, 403);
    assert.equal((await req('nope', 'GET', '/v1/kv/a/open')).status, 403);
  });

  it('refuses a txn write with 409 and Errors[].What "Permission denied: …"', async () => {
    const res = await req('app', 'PUT', '/v1/txn', JSON.stringify([{ KV: { Verb: 'set', Key: 'a/secret', Value: '' } }]));
    assert.equal(res.status, 409);
    const { Errors } = (await res.json()) as any;
    assert.match(Errors[0].What, /^Permission denied: token with AccessorID '[^']+' lacks permission 'key:write' on "a\/secret"$/);
  });

  it('holds a blocking query for wait + wait/16 (jitter: max)', async () => {
    const t0 = Date.now();
    await req('root', 'GET', `/v1/kv/a/?recurse&index=${consul.index()}&wait=320ms`);
    assert.ok(Date.now() - t0 >= 340, `${Date.now() - t0} ms`);
  });
});
