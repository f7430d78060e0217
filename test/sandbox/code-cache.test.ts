import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCodeCache } from '../../engine/sandbox/code-cache.ts';
import { codeKey, createCodeKeys } from '../../engine/sandbox/code-key.ts';
import { createIsolatedSandbox, type IsolatedSandbox } from '../../engine/sandbox/isolated-host.ts';
import { compileScript } from '../../engine/sandbox/compile.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { LIMITS, makeContext, makeScope, resultOf } from './fixtures.ts';

const run = (sandbox: IsolatedSandbox, code: string, version = 3, input: unknown = null) => {
  const context = makeContext(input);
  context.workflow = { name: 'canary', version };
  return sandbox.run({ code, context, limits: LIMITS, capabilities: {}, scope: makeScope() });
};

describe('code cache in the sandbox children', () => {
  let sandbox: IsolatedSandbox;
  before(() => {
    sandbox = createIsolatedSandbox({ processes: 1, runsPerProcess: 2, logger: silentLogger() });
  });
  after(() => sandbox.close());

  it('sends a version’s code once; later runs carry only its key and give the same results', async () => {
    const code = compileScript('export default async (ctx: { input: number }) => ctx.input * 2;');
    const before = sandbox.stats();
    const results = [];
    for (let i = 0; i < 5; i++) results.push(resultOf(await run(sandbox, code, 10, i)));
    const stats = sandbox.stats();
    assert.deepEqual(results, [0, 2, 4, 6, 8]);
    assert.equal(stats.codeSent - before.codeSent, 1);
    assert.equal(stats.codeOmitted - before.codeOmitted, 4);
  });

  it('never runs stale code: new code under the same name and version runs as sent', async () => {
    const one = compileScript('export default async () => "one";');
    const two = compileScript('export default async () => "two";');
    assert.equal(resultOf(await run(sandbox, one, 11)), 'one');
    assert.equal(resultOf(await run(sandbox, two, 11)), 'two');
    assert.equal(resultOf(await run(sandbox, one, 11)), 'one');
  });

  it('a child that evicted the code asks for it again (bytes bound), and the run succeeds', async () => {
    // ~1 MB per version (512k characters, two bytes each): 40 versions pass the child's 32 MB
    // bound while the host still remembers all 40 keys, so the first ones are misses.
    const pad = ' '.repeat(500_000);
    const codes = Array.from({ length: 40 }, (_, i) => `export default async () => ${i};/*${pad}*/`);
    for (let i = 0; i < codes.length; i++) assert.equal(resultOf(await run(sandbox, codes[i], 100 + i)), i);
    const before = sandbox.stats().codeMisses;
    assert.equal(resultOf(await run(sandbox, codes[0], 100)), 0);
    assert.equal(sandbox.stats().codeMisses, before + 1);
  });
});

describe('code cache bookkeeping', () => {
  it('stores code only under a key carrying its own hash', () => {
    const cache = createCodeCache(4, 1 << 20);
    const code = 'export default () => 1;';
    const key = codeKey({ name: 'w', version: 1 }, code);
    assert.equal(cache.put(key, 'export default () => 2;'), undefined);
    assert.equal(cache.put('w@1#not-a-hash', code), undefined);
    assert.equal(cache.put(key, code)?.code, code);
    assert.equal(cache.get(key)?.code, code);
  });

  it('evicts the least recently used entry past its count', () => {
    const cache = createCodeCache(2, 1 << 20);
    const keys = ['a', 'b', 'c'].map((c) => {
      const code = `export default () => "${c}";`;
      const key = codeKey({ name: c, version: 1 }, code);
      return { key, code };
    });
    cache.put(keys[0].key, keys[0].code);
    cache.put(keys[1].key, keys[1].code);
    cache.get(keys[0].key);
    cache.put(keys[2].key, keys[2].code);
    assert.ok(cache.get(keys[0].key));
    assert.equal(cache.get(keys[1].key), undefined);
    assert.deepEqual(cache.stats().entries, 2);
  });

  it('the host memo gives a new key when a version’s code changes', () => {
    const keyOf = createCodeKeys();
    const w = { name: 'w', version: 1 };
    assert.equal(keyOf(w, 'a'), codeKey(w, 'a'));
    assert.equal(keyOf(w, 'a'), codeKey(w, 'a'));
    assert.equal(keyOf(w, 'b'), codeKey(w, 'b'));
  });
});
