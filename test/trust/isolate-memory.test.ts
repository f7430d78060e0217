import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SandboxHost, SandboxOutcome } from '../../engine/ports/sandbox-host.ts';
import { createIsolatedSandbox } from '../../engine/sandbox/isolated-host.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { resultOf, runScript } from '../sandbox/fixtures.ts';

/**
 * Issue 9, class 4 (isolate side): memory a script can take that the isolate's heap limit does
 * not see. A 16 MB workflow filled 1 GB of resizable ArrayBuffers, and Intl objects grew the
 * child by ~850 MB. Resizable buffers are refused, plain buffers and typed arrays count against
 * the limit, Intl is gone, and locale-specific formatting is capped per run.
 */
function errorOf(outcome: SandboxOutcome) {
  assert.notEqual(outcome.status, 'succeeded', JSON.stringify(outcome));
  if (outcome.status === 'succeeded') throw new Error('unreachable');
  return outcome.error;
}

const SMALL = { memoryMb: 16, cpuMs: 20_000, timeoutMs: 30_000 };

describe('isolate memory outside the heap limit', () => {
  let sandbox: SandboxHost;
  before(() => {
    sandbox = createIsolatedSandbox({ processes: 1, runsPerProcess: 2, logger: silentLogger() });
  });
  after(() => sandbox.close());

  it('refuses resizable ArrayBuffers, however the constructor is reached', async () => {
    const tries = [
      'new ArrayBuffer(1, { maxByteLength: 16 * 1024 * 1024 })',
      'new (Object.getPrototypeOf(new Uint8Array(1).buffer).constructor)(1, { maxByteLength: 1 << 24 })',
      'new (new Uint8Array(1).buffer.constructor)(1, { maxByteLength: 1 << 24 })',
      'new (class Big extends ArrayBuffer {})(1, { maxByteLength: 1 << 24 })',
      'Reflect.construct(ArrayBuffer, [1, { maxByteLength: 1 << 24 }])',
    ];
    for (const expr of tries) {
      const outcome = await runScript(
        sandbox,
        `export default async () => { const k = []; for (let i = 0; i < 64; i++) { const b = ${expr}; b.resize(16 * 1024 * 1024); k.push(b); } return k.length; }`,
        { limits: SMALL },
      );
      const error = errorOf(outcome);
      assert.equal(error.code, 'SCRIPT.ERROR', expr);
      assert.match(error.message, /^RangeError: resizable ArrayBuffers \(the maxByteLength option\) are not available/, expr);
    }
  });

  it('keeps plain buffers working, with the usual constructor identity', async () => {
    const result = resultOf(
      await runScript(
        sandbox,
        `export default async () => {
          const b = new ArrayBuffer(8);
          let called = true;
          try { ArrayBuffer(8); called = false; } catch (e) { called = e instanceof TypeError; }
          return [b.byteLength, b.resizable, new Uint8Array(4).buffer.constructor === ArrayBuffer, b.slice(2) instanceof ArrayBuffer,
                  new (class X extends ArrayBuffer {})(4).byteLength, ArrayBuffer.isView(new Uint8Array(1)), called, b.transfer(16).byteLength];
        }`,
      ),
    );
    assert.deepEqual(result, [8, false, true, true, 4, true, true, 16]);
  });

  it('stops typed arrays, buffers and transfers past the heap limit as SANDBOX.MEMORY_LIMIT', async () => {
    for (const alloc of ['new Uint8Array(16 * 1024 * 1024)', 'new ArrayBuffer(16 * 1024 * 1024)', 'new ArrayBuffer(8).transfer(16 * 1024 * 1024)']) {
      const outcome = await runScript(sandbox, `export default async () => { const k = []; for (let i = 0; i < 64; i++) k.push(${alloc}); return k.length; }`, {
        limits: SMALL,
      });
      assert.equal(errorOf(outcome).code, 'SANDBOX.MEMORY_LIMIT', alloc);
    }
  });

  it('has no Intl, and caps locale-specific formatting per run', async () => {
    assert.equal(resultOf(await runScript(sandbox, 'export default async () => typeof Intl')), 'undefined');
    const floods = [
      'new Date().toLocaleString("en", { timeZone: "UTC", hour: "numeric" })',
      'new Date().toLocaleDateString("de")',
      'new Date().toLocaleTimeString(undefined, { hour12: false })',
      '(1234.5).toLocaleString("de", { style: "currency", currency: "EUR" })',
      '(10n).toLocaleString("en")',
      '"a".localeCompare("b", "de", { sensitivity: "base" })',
      '[1.5, new Date()].toLocaleString("fr")',
      'new Float64Array([1.5]).toLocaleString("fr")',
    ];
    for (const call of floods) {
      const outcome = await runScript(sandbox, `export default async () => { for (let i = 0; i < 200000; i++) ${call}; return 'flooded'; }`, { limits: SMALL });
      const error = errorOf(outcome);
      assert.equal(error.code, 'SCRIPT.ERROR', call);
      assert.match(error.message, /^RangeError: \w+ with locales or options is limited to 1000 calls per run/, call);
    }
  });

  it('leaves default-locale formatting (cached by V8) unlimited', async () => {
    const result = resultOf(
      await runScript(
        sandbox,
        `export default async () => {
          let n = 0;
          for (let i = 0; i < 5000; i++) n += new Date(0).toLocaleString().length > 0 && (1.5).toLocaleString() === '1.5' && 'a'.localeCompare('b') < 0 ? 1 : 0;
          return [n, (1.5).toLocaleString('en-US'), new Date(0).toLocaleDateString('en-US', { timeZone: 'UTC' })];
        }`,
        { limits: SMALL },
      ),
    );
    assert.deepEqual(result, [5000, '1.5', '1/1/1970']);
  });
});
