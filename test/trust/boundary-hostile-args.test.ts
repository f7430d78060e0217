import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { scriptCapabilityMethods } from '../../engine/sandbox/script-api.ts';
import { isErrorCode } from '../../engine/shared/error-catalogue.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { assertApiAnswers, prototypeSnapshot, putWorkflow, runToEnd } from './boundary-support.ts';

/**
 * Class 1 (host prototype pollution from capability arguments), for every method of the
 * script contract: a real script throws hostile values at each argument position, through
 * the API and the engine's real capabilities. Every call must either succeed harmlessly or
 * fail with a catalogued error (the boundary's names the method and the argument), and the
 * engine's prototypes must be untouched afterwards, with the API still answering.
 */

// Built inside the script (the isolate): each label → a function making the value.
const HOSTILE = `{
  'proto-key': () => JSON.parse('{"__proto__":{"polluted":1,"weight":33}}'),
  'nested-proto-key': () => JSON.parse('{"routes":{"v1":{"__proto__":{"polluted":1}}},"tags":["x"],"value":{"a":[{"__proto__":{"polluted":1}}]}}'),
  'constructor-key': () => JSON.parse('{"constructor":{"prototype":{"polluted":1}}}'),
  'prototype-key': () => JSON.parse('{"a":{"prototype":{"polluted":1}}}'),
  'member-names': () => ({ toString: 1, valueOf: 2, hasOwnProperty: 3, isPrototypeOf: 4 }),
  getter: () => ({ get weight() { return 1; }, get tags() { return ['x']; } }),
  proxy: () => new Proxy({}, { ownKeys: () => ['__proto__', 'a'], getOwnPropertyDescriptor: () => ({ value: 1, enumerable: true, configurable: true }), get: () => 1 }),
  'long-string': () => 'x'.repeat(100000),
  'huge-string': () => 'x'.repeat(2000000),
  'big-array': () => new Array(20000).fill(1),
  'many-keys': () => { const o = {}; for (let i = 0; i < 2000; i++) o['k' + i] = i; return o; },
  deep: () => { let d = {}; for (let i = 0; i < 1000; i++) d = { d }; return d; },
  cyclic: () => { const c = { a: 1 }; c.self = c; return c; },
  bigint: () => 10n,
  fn: () => () => 1,
  number: () => 42,
  nan: () => NaN,
  bool: () => true,
  null: () => null,
  array: () => [1, 'two', { three: 3 }],
  string: () => '../../etc/passwd',
  empty: () => ({}),
}`;

/** Values the isolate itself cannot serialise: refused there, before anything reaches the host. */
const REFUSED_IN_ISOLATE: Record<string, RegExp> = { cyclic: /circular/i, bigint: /BigInt/i, 'huge-string': /larger than/ };
const PROTO_LABELS = new Set(['proto-key', 'nested-proto-key', 'constructor-key', 'prototype-key']);

const SCRIPT = `
export default async function (ctx) {
  const hostile = ${HOSTILE};
  // Valid arguments before the hostile one, so that it is argument 1, 2 or 3 of the call.
  const prefixes = [[], ['shop'], ['shop', {}]];
  const out = [];
  for (const [cap, methods] of ctx.input) {
    for (const method of methods) {
      for (let pos = 0; pos < prefixes.length; pos++) {
        for (const label of Object.keys(hostile)) {
          const entry = { cap, method, pos, label };
          try {
            await ctx[cap][method](...prefixes[pos], hostile[label]());
            entry.ok = true;
          } catch (e) {
            entry.ok = false;
            entry.code = e && e.code;
            entry.message = String(e && e.message).slice(0, 300);
          }
          out.push(entry);
        }
      }
    }
  }
  return out;
}`;

interface CallOutcome {
  cap: string;
  method: string;
  pos: number;
  label: string;
  ok: boolean;
  code?: string;
  message?: string;
}

describe('the host boundary: hostile arguments to every capability method', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem();
  });
  after(() => t.stop());

  it('every call succeeds harmlessly or fails with a typed error naming the argument; the engine stays clean and answers', async () => {
    const shop = {
      port: 18081,
      routes: { v1: { weight: 100, targets: [{ host: '127.0.0.1', port: 9001 }] }, v2: { weight: 0, targets: [{ host: '127.0.0.1', port: 9002 }] } },
    };
    assert.equal((await t.call('PUT', '/api/v1/gateways/shop', shop)).status, 201);
    const before = prototypeSnapshot();
    const methods = scriptCapabilityMethods();
    await putWorkflow(t, 'hostile', {
      script: SCRIPT,
      limits: { timeoutMs: 120_000, memoryMb: 128 },
      // Everything granted, so that hostile values reach as deep into the engine as they can.
      permissions: { gateways: ['*'], deployments: { '*': { minInstances: 0, maxInstances: 5 } } },
    });
    const run = await runToEnd(t, 'hostile', methods);
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    const outcomes = run.result as CallOutcome[];
    const labels = Object.keys(REFUSED_IN_ISOLATE).length + PROTO_LABELS.size;
    assert.ok(outcomes.length >= methods.reduce((n, [, m]) => n + m.length, 0) * 3 * labels, 'every method, position and value was tried');

    for (const o of outcomes) {
      const what = `${o.cap}.${o.method} at argument ${o.pos + 1} with ${o.label}: ${JSON.stringify(o)}`;
      if (o.ok) {
        assert.ok(!PROTO_LABELS.has(o.label), `a prototype key must never be accepted: ${what}`);
        continue;
      }
      if (Object.hasOwn(REFUSED_IN_ISOLATE, o.label)) {
        assert.match(o.message ?? '', REFUSED_IN_ISOLATE[o.label], what);
        continue;
      }
      assert.ok(typeof o.code === 'string' && isErrorCode(o.code), `a catalogued code: ${what}`);
      assert.ok(!['INTERNAL', 'SANDBOX.INTERNAL', 'SANDBOX.NO_SUCH_CAPABILITY'].includes(o.code), what);
      if (PROTO_LABELS.has(o.label)) {
        assert.equal(o.code, 'VALIDATION', what);
        assert.match(
          o.message ?? '',
          new RegExp(`^${o.cap}\\.${o.method}: argument ${o.pos + 1}( \\(.*\\))?: key "(__proto__|constructor|prototype)" is not allowed`),
          what,
        );
      }
      if (o.code === 'VALIDATION' && o.message?.startsWith(`${o.cap}.${o.method}: argument`)) {
        // The boundary's refusals name the argument by its position (and its contract name).
        assert.match(o.message, /^[a-zA-Z]+\.[a-zA-Z]+: argument \d+/, what);
      }
    }

    assert.deepEqual(prototypeSnapshot(), before, 'no prototype of the engine process gained a property');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).weight, undefined);
    await assertApiAnswers(t);
    const gw = await t.call('GET', '/api/v1/gateways/shop');
    assert.equal(gw.status, 200);
    assert.deepEqual(Object.keys(gw.body.routes).sort(), ['v1', 'v2'], 'no route appeared from a hostile name');
  });

  it('setWeights with {"__proto__": 33} is refused naming the argument, and Object.prototype keeps no weight', async () => {
    await putWorkflow(t, 'proto-weights', {
      permissions: { gateways: ['shop'] },
      script: `export default async function (ctx) {
        const tries = [JSON.parse('{"__proto__":33}'), { toString: 50, v1: 50 }, { constructor: 1 }, { hasOwnProperty: 10, v1: 90 }];
        const out = [];
        for (const w of tries) {
          try { await ctx.gateways.setWeights('shop', w); out.push('ok'); } catch (e) { out.push(e.code + ': ' + e.message); }
        }
        return out;
      }`,
    });
    const run = await runToEnd(t, 'proto-weights');
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    assert.equal(run.result[0], 'VALIDATION: gateways.setWeights: argument 2 (weights): key "__proto__" is not allowed');
    assert.match(run.result[1], /^VALIDATION: .*no route 'toString'/);
    assert.equal(run.result[2], 'VALIDATION: gateways.setWeights: argument 2 (weights): key "constructor" is not allowed');
    assert.match(run.result[3], /^VALIDATION: .*no route 'hasOwnProperty'/);
    assert.equal((Object.prototype as Record<string, unknown>).weight, undefined);
    assert.equal((Object.prototype.toString as unknown as Record<string, unknown>).weight, undefined);
    await assertApiAnswers(t);
  });

  it('the API refuses the same names for weights and gateway patches without touching any prototype', async () => {
    const before = prototypeSnapshot();
    const weights = await t.call('PUT', '/api/v1/gateways/shop/weights', { toString: 50, v1: 50 });
    assert.equal(weights.status, 400, JSON.stringify(weights.body));
    const raw = await t.app.request('/api/v1/gateways/shop/weights', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"__proto__": 33, "v1": 100}',
    });
    assert.ok(raw.status === 400 || raw.status === 200, `a refusal or v1 alone, got ${raw.status}`);
    assert.deepEqual(prototypeSnapshot(), before);
    assert.equal((Object.prototype as Record<string, unknown>).weight, undefined);
    await assertApiAnswers(t);
  });
});
