import assert from 'node:assert/strict';
import { types } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { compileScript } from '../../engine/sandbox/compile.ts';
import { createIsolatedSandbox } from '../../engine/sandbox/isolated-host.ts';
import type { SandboxHost, SandboxOutcome } from '../../engine/ports/sandbox-host.ts';
import type { Capabilities } from '../../engine/sandbox/capabilities.ts';
import { ValidationError } from '../../engine/shared/errors.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { resultOf, runScript, type LogCall } from './fixtures.ts';

/**
 * Every attempt here tries to reach the host: `process`, `require`, or an isolated-vm object
 * (Reference, ExternalCopy, Callback, Isolate, Context) whose `constructor` walks out of the
 * isolate. The prelude's `note(value, where)` records anything that looks like one; a script
 * returns `{ hits, host }` and the test asserts both are empty/false, or that the run failed
 * harmlessly. The prelude only uses syntax and its own captured builtins, so the patches the
 * scripts install cannot blind it.
 */
const PRELUDE = `
const RA = Reflect.apply, GOPN = Object.getOwnPropertyNames, GPO = Object.getPrototypeOf, GOPD = Object.getOwnPropertyDescriptor, DP = Object.defineProperty;
let hits = '';
const IVM = { Reference: 1, ExternalCopy: 1, Isolate: 1, Context: 1, Callback: 1, Script: 1, Module: 1, NativeModule: 1 };
function dangerous(v) {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return false;
  try { const c = v.constructor; if (c && IVM[c.name] === 1) return true; } catch {}
  try { if (typeof v.applySync === 'function' || typeof v.derefInto === 'function' || typeof v.copyInto === 'function' || typeof v.applySyncPromise === 'function') return true; } catch {}
  try { if (typeof v.pid === 'number' && typeof v.exit === 'function') return true; } catch {}
  try { if (v.constructor.constructor('return typeof process')() !== 'undefined') return true; } catch {}
  return false;
}
function note(v, where) { if (dangerous(v)) hits += where + ';'; }
function host() {
  let viaFunction = false;
  try { viaFunction = Function('return typeof process !== "undefined" || typeof require !== "undefined"')(); } catch {}
  return typeof process !== 'undefined' || typeof require !== 'undefined' || typeof module !== 'undefined' || viaFunction;
}
function walk(root, where, depth, seen) {
  if (root === null || (typeof root !== 'object' && typeof root !== 'function') || depth > 4) return;
  for (const s of seen) if (s === root) return;
  seen[seen.length] = root;
  note(root, where);
  let names = [];
  try { names = GOPN(root); } catch {}
  for (const n of names) {
    let d; try { d = GOPD(root, n); } catch {}
    if (!d) continue;
    if ('value' in d) walk(d.value, where + '.' + n, depth + 1, seen);
    if (d.get) walk(d.get, where + '.get ' + n, depth + 1, seen);
    if (d.set) walk(d.set, where + '.set ' + n, depth + 1, seen);
  }
  let p; try { p = GPO(root); } catch {}
  walk(p, where + '.__proto__', depth + 1, seen);
}
`;

const capabilities: Capabilities = {
  state: {
    get: async (_scope, key) => ({ key, at: 1 }),
    fail: async () => {
      throw Object.assign(new Error('host says no'), { code: 'PERMISSION' });
    },
  },
};

describe('isolated sandbox: escape attempts', () => {
  let sandbox: SandboxHost;
  before(() => {
    sandbox = createIsolatedSandbox({ processes: 2, runsPerProcess: 2, logger: silentLogger() });
  });
  after(() => sandbox.close());

  const attempt = (body: string, extra: { capabilities?: Capabilities; logs?: LogCall[] } = {}) =>
    runScript(sandbox, `${PRELUDE}\n${body}`, { capabilities: extra.capabilities ?? capabilities, logs: extra.logs });

  /** The script ran to the end and found nothing, or it failed without having found anything. */
  const assertContained = (outcome: SandboxOutcome, mustSucceed = true) => {
    if (mustSucceed) assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
    if (outcome.status === 'succeeded') {
      assert.deepEqual(outcome.result, { hits: '', host: false }, JSON.stringify(outcome.result));
    } else {
      assert.ok(['SCRIPT.ERROR', 'SCRIPT.INVALID'].includes(outcome.error.code), JSON.stringify(outcome));
    }
    assert.equal(typeof process.pid, 'number', 'the engine process is unharmed');
  };

  it('the detector itself flags isolated-vm-like objects (positive control)', async () => {
    const outcome = await attempt(`
      export default async function () {
        note({ applySync() {} }, 'ref');
        note({ constructor: { name: 'ExternalCopy' } }, 'copy');
        note({ pid: 1, exit() {} }, 'process');
        note({}, 'plain');
        return { hits, host: host() };
      }`);
    assert.deepEqual(resultOf(outcome), { hits: 'ref;copy;process;', host: false });
  });

  it('has no host globals: process, require, module, fetch, timers, Buffer, SharedArrayBuffer, Atomics, WebAssembly', async () => {
    const outcome = await runScript(
      sandbox,
      `
      export default async () => [
        typeof process, typeof require, typeof module, typeof exports, typeof __dirname, typeof fetch, typeof setTimeout,
        typeof setInterval, typeof setImmediate, typeof queueMicrotask, typeof Buffer, typeof SharedArrayBuffer,
        typeof Atomics, typeof WebAssembly, typeof globalThis.process, typeof globalThis.require, typeof XMLHttpRequest,
      ];`,
    );
    assert.ok(outcome.status === 'succeeded');
    assert.deepEqual(outcome.result, new Array(17).fill('undefined'));
  });

  it('this.constructor.constructor / globalThis.constructor.constructor only reach the isolate’s own realm', async () => {
    assertContained(
      await attempt(`
      let topLevelThis = 'unset';
      try { topLevelThis = this.constructor.constructor('return process')(); } catch (e) { topLevelThis = e.name; }
      export default async function () {
        let viaThis = 'unset';
        try { viaThis = this.constructor.constructor('return process')(); } catch (e) { viaThis = e.name; }
        note(globalThis.constructor.constructor('return this')(), 'global');
        const p = globalThis.constructor.constructor('return typeof process === "undefined" ? undefined : process')();
        note(p, 'process');
        if (topLevelThis !== 'TypeError' || viaThis !== 'TypeError') hits += 'this;';
        return { hits, host: host() || p !== undefined };
      }`),
    );
  });

  it('ctx and every function the bridge injects lead nowhere (constructor chains, deep walk of ctx and globalThis)', async () => {
    assertContained(
      await attempt(`
      export default async function (ctx) {
        for (const f of [ctx.log.info, ctx.log.error, ctx.sleep, ctx.state.get, console.log, ctx.constructor]) {
          let r;
          try { r = f.constructor('return typeof process === "undefined" ? undefined : process')(); } catch {}
          if (r && typeof r.then === 'function') r = await r;
          note(r, 'ctor-result');
          if (r !== undefined) hits += 'ctor;';
          for (const k of ['caller', 'arguments']) { try { note(f[k], k); if (f[k]) hits += k + ';'; } catch {} }
        }
        try { ctx.log.info.constructor('return process')(); hits += 'log-ctor;'; } catch (e) { if (!(e instanceof ReferenceError)) hits += 'log-ctor:' + e + ';'; }
        walk(ctx, 'ctx', 0, []);
        walk(globalThis, 'global', 0, []);
        walk(console, 'console', 0, []);
        if (Object.getPrototypeOf(ctx.state) !== null || ctx.state.constructor !== undefined) hits += 'cap-proto;';
        return { hits, host: host() };
      }`),
    );
  });

  it('errors thrown back from host calls are plain isolate errors', async () => {
    assertContained(
      await attempt(`
      export default async function (ctx) {
        let e;
        try { await ctx.state.fail(); } catch (err) { e = err; }
        if (!(e instanceof Error) || e.message !== 'host says no' || e.code !== 'PERMISSION') hits += 'shape;';
        note(e, 'e'); note(e.constructor, 'e.constructor'); note(e.__proto__, 'e.__proto__');
        try { e.constructor.constructor('return process')(); hits += 'e.ctor.ctor-process;'; } catch (err) { if (!(err instanceof ReferenceError)) hits += 'e.ctor.ctor:' + err + ';'; }
        if (e.constructor.constructor('return typeof process')() !== 'undefined') hits += 'e.ctor.ctor;';
        for (const n of Object.getOwnPropertyNames(e)) note(e[n], 'e.' + n);
        walk(e, 'e', 0, []);
        return { hits, host: host() };
      }`),
    );
  });

  it('Error.prepareStackTrace and Error.captureStackTrace see no bridge functions or receivers', async () => {
    assertContained(
      await attempt(`
      const seen = [];
      Error.prepareStackTrace = (err, frames) => {
        for (const f of frames) {
          let fn, self;
          try { fn = f.getFunction(); } catch {}
          try { self = f.getThis(); } catch {}
          note(fn, 'fn:' + f.getFunctionName() + '@' + f.getFileName());
          note(self, 'this:' + f.getFunctionName() + '@' + f.getFileName());
          if (fn !== undefined && f.getFileName() !== 'script') seen[seen.length] = 'fn ' + f.getFileName() + ' ' + f.getFunctionName();
          if (self !== undefined && self !== globalThis && f.getFileName() !== 'script') seen[seen.length] = 'this ' + f.getFileName() + ' ' + f.getFunctionName();
        }
        return 'patched';
      };
      const probe = () => { const o = {}; Error.captureStackTrace(o); void o.stack; void new Error('probe').stack; };
      export default async function (ctx) {
        ctx.log.info('fields', { get x() { probe(); return 1; } });
        ctx.log.info({ toString() { probe(); return 'msg'; } });
        console.log({ toJSON() { probe(); return 1; } });
        await ctx.sleep({ valueOf() { probe(); return 1; } });
        await ctx.state.get({ toJSON() { probe(); return 'k'; } });
        try { await ctx.state.fail(); } catch (e) { void e.stack; }
        try { ctx.log.info('x', { get boom() { throw new Error('from getter'); } }); } catch {}
        Object.defineProperty(Object.prototype, 'then', { configurable: true, get() { probe(); return undefined; } });
        await ctx.state.get('k2');
        delete Object.prototype.then;
        if (seen.length) hits += 'visible:' + seen.join(',') + ';';
        return { hits, host: host() };
      }`),
    );
  });

  it('monkey-patched Function.prototype.apply/call/bind, Reflect.apply, Array, String, Promise and Object methods never see bridge internals', async () => {
    const logs: LogCall[] = [];
    const outcome = await attempt(
      `
      let calls = 0;
      function spy(obj, key) {
        const orig = obj[key];
        if (typeof orig !== 'function') return;
        obj[key] = function (...args) {
          calls++;
          note(this, key + ':this');
          for (let i = 0; i < args.length; i++) note(args[i], key + ':arg');
          return RA(orig, this, args);
        };
      }
      for (const k of ['apply', 'call', 'bind', 'toString']) spy(Function.prototype, k);
      for (const k of ['map', 'push', 'forEach', 'join', 'slice', 'includes', 'indexOf', 'concat', 'filter', 'reduce']) spy(Array.prototype, k);
      for (const k of ['slice', 'indexOf', 'split', 'replace', 'concat']) spy(String.prototype, k);
      for (const k of ['then', 'catch', 'finally']) spy(Promise.prototype, k);
      for (const k of ['apply', 'construct', 'get', 'set', 'defineProperty', 'deleteProperty', 'ownKeys']) spy(Reflect, k);
      for (const k of ['defineProperty', 'create', 'freeze', 'keys', 'entries', 'assign', 'getPrototypeOf', 'setPrototypeOf']) spy(Object, k);
      for (const k of ['resolve', 'reject', 'all']) spy(Promise, k);
      spy(Map.prototype, 'get'); spy(Map.prototype, 'set'); spy(Set.prototype, 'has');
      export default async function (ctx) {
        ctx.log.info('patched', { a: [1, 2] });
        console.log('c', { b: 1 });
        const got = await ctx.state.get('k');
        let failed = '';
        try { await ctx.state.fail(); } catch (e) { failed = e.message; }
        await ctx.sleep(1);
        if (got.key !== 'k' || failed !== 'host says no') hits += 'bridge-broken;';
        return { hits, host: host() };
      }`,
      { logs },
    );
    assertContained(outcome);
    assert.deepEqual(logs.slice(0, 2), [
      { level: 'info', message: 'patched', fields: { a: [1, 2] } },
      { level: 'info', message: 'c {"b":1}' },
    ]);
  });

  it('setters and getters on Object.prototype named like bridge properties (and a global `then`) intercept nothing', async () => {
    assertContained(
      await attempt(`
      const names = ['resolve', 'reject', 'site', 'id', 'promise', 'value', 'kind', 'send', 'dispatch', 'deliver', 'code', 'stack',
        'ref', 'reference', 'result', 'isolate', 'context', 'log', 'sleep', 'state', 'get', 'set', 'writable', 'enumerable', 'configurable',
        'fieldsError', 'name', 'message', 'toJSON', '0', '1', '2', '3', '4'];
      for (const n of names) {
        DP(Object.prototype, n, {
          __proto__: null,
          configurable: true,
          get() { note(this, 'get ' + n); return undefined; },
          set(v) { note(v, 'set ' + n); note(this, 'set-this ' + n); DP(this, n, { __proto__: null, value: v, writable: true, enumerable: true, configurable: true }); },
        });
      }
      DP(Object.prototype, 'then', { __proto__: null, configurable: true, get() { note(this, 'then'); return undefined; } });
      export default async function (ctx) {
        ctx.log.info('m', { f: 1 });
        const got = await ctx.state.get('k');
        try { await ctx.state.fail(); } catch (e) { note(e, 'e'); }
        await ctx.sleep(1);
        for (const n of names) delete Object.prototype[n];
        delete Object.prototype.then;
        if (got.key !== 'k') hits += 'bridge-broken;';
        return { hits, host: host() };
      }`),
    );
  });

  it('Promise.prototype.then patching and replacing Promise/JSON globals do not affect the bridge', async () => {
    assertContained(
      await attempt(`
      const origThen = Promise.prototype.then;
      // Neither the bridge nor isolated-vm may subscribe through the user-visible then (isolated-vm
      // would pass its own resolution handlers): the script itself never calls it, so 0 calls.
      let thenCalls = 0;
      Promise.prototype.then = function (a, b) { thenCalls++; note(this, 'then-this'); note(a, 'then-a'); note(b, 'then-b'); return RA(origThen, this, [a, b]); };
      Promise.prototype.catch = function (b) { thenCalls++; note(b, 'catch-b'); return RA(origThen, this, [undefined, b]); };
      const origParse = JSON.parse, origStringify = JSON.stringify;
      let jsonCalls = 0;
      JSON.parse = function (s, r) { jsonCalls++; note(s, 'parse'); return '{"hijacked":true}'; };
      JSON.stringify = function (v, r, i) { jsonCalls++; note(v, 'stringify'); note(r, 'replacer'); return '"hijacked"'; };
      globalThis.Promise = function FakePromise() { hits += 'fake-promise-used;'; };
      globalThis.Error = function FakeError() { hits += 'fake-error-used;'; };
      export default async function (ctx) {
        const got = await ctx.state.get('k');
        let code = '';
        try { await ctx.state.fail(); } catch (e) { code = e.code; }
        ctx.log.info('x', { y: 1 });
        JSON.parse = origParse; JSON.stringify = origStringify;
        if (got.key !== 'k' || code !== 'PERMISSION') hits += 'bridge-used-user-globals;';
        if (jsonCalls !== 0) hits += 'bridge-called-user-json:' + jsonCalls + ';';
        await ctx.sleep(1);
        if (thenCalls !== 0) hits += 'then-called:' + thenCalls + ';';
        return { hits, host: host() };
      }`),
    );
  });

  it('import() is refused at run time; static imports are refused at upload and at run time', async () => {
    assertContained(
      await attempt(`
      export default async function () {
        let r = 'unset';
        try { const fs = await import('fs'); r = typeof fs; } catch (e) { r = 'refused'; }
        try { await import('node:child_process'); r += ':imported'; } catch {}
        if (r !== 'refused') hits += 'import:' + r + ';';
        return { hits, host: host() };
      }`),
    );
    assert.throws(
      () => compileScript("import fs from 'fs';\nexport default async () => fs.readFileSync('/etc/passwd', 'utf8');"),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.match(err.message, /^script: line 1, column 1: imports are not available in the sandbox \('fs'\)/);
        return true;
      },
    );
    const raw = await runScript(sandbox, "import fs from 'fs';\nexport default async () => fs.readFileSync('/etc/passwd', 'utf8');", { raw: true });
    assert.ok(raw.status === 'failed');
    assert.equal(raw.error.code, 'SCRIPT.INVALID');
    assert.match(raw.error.message, /imports are not available in the sandbox \('fs'\)/);
  });

  it('Proxies, getters and toJSON passed to host calls are copied as plain JSON inside the isolate', async () => {
    const received: unknown[] = [];
    const outcome = await attempt(
      `
      export default async function (ctx) {
        let traps = 0;
        const proxy = new Proxy({ a: 1 }, {
          get(t, k, r) { traps++; return Reflect.get(t, k, r); },
          ownKeys(t) { traps++; return Reflect.ownKeys(t); },
          getOwnPropertyDescriptor(t, k) { traps++; return Reflect.getOwnPropertyDescriptor(t, k); },
        });
        const getter = { get secret() { traps++; return 'from-getter'; } };
        const withToJson = { toJSON() { traps++; return { replaced: true }; }, hidden: 'x' };
        await ctx.probe.take(proxy, getter, withToJson, [new Proxy([1, 2], {})], new Date(0), undefined, () => 1);
        if (traps === 0) hits += 'no-traps-ran-in-isolate;';
        return { hits, host: host() };
      }`,
      {
        capabilities: {
          probe: {
            take: async (_scope, ...args) => {
              received.push(...args);
            },
          },
        },
      },
    );
    assertContained(outcome);
    assert.deepEqual(JSON.parse(JSON.stringify(received)), [
      { a: 1 },
      { secret: 'from-getter' },
      { replaced: true },
      [[1, 2]],
      '1970-01-01T00:00:00.000Z',
      null,
      null,
    ]);
    for (const value of received) {
      assert.equal(types.isProxy(value), false);
      if (value && typeof value === 'object') {
        for (const key of Object.keys(value)) assert.equal(Object.getOwnPropertyDescriptor(value, key)?.get, undefined, 'plain data, no accessors');
        // Plain data only: objects have no prototype at all (nothing of Object.prototype reachable), arrays are arrays.
        assert.ok([null, Array.prototype].includes(Object.getPrototypeOf(value)));
      }
    }
  });

  it('arguments.callee.caller and fn.caller from sloppy functions called by the bridge are null', async () => {
    assertContained(
      await attempt(`
      const callers = [];
      const probe = Function('callers', 'return function probe() { callers[callers.length] = probe.caller; callers[callers.length] = arguments.callee.caller; return 1; }')(callers);
      export default async function (ctx) {
        const fields = {};
        Object.defineProperty(fields, 'x', { get: probe, enumerable: true });
        ctx.log.info('m', fields);
        ctx.log.info({ toString: probe });
        console.log({ toJSON: probe });
        await ctx.sleep({ valueOf: () => { probe(); return 1; } });
        await ctx.state.get({ toJSON: probe });
        for (const c of callers) { note(c, 'caller'); if (c !== null && c !== undefined) hits += 'caller:' + String(c).slice(0, 40) + ';'; }
        if (callers.length < 8) hits += 'probe-not-called:' + callers.length + ';';
        return { hits, host: host() };
      }`),
    );
  });

  it('a host capability cannot be reached under names it does not have (prototype names, unknown methods)', async () => {
    const outcome = await attempt(`
      export default async function (ctx) {
        const names = Object.getOwnPropertyNames(ctx.state).sort().join(',');
        if (names !== 'fail,get') hits += 'names:' + names + ';';
        if (ctx.state.constructor !== undefined || ctx.state.__proto__ !== undefined || ctx.state.toString !== undefined) hits += 'proto;';
        return { hits, host: host() };
      }`);
    assertContained(outcome);
  });
});
