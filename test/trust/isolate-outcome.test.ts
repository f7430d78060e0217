import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SandboxHost, SandboxOutcome } from '../../engine/ports/sandbox-host.ts';
import { createIsolatedSandbox } from '../../engine/sandbox/isolated-host.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { resultOf, runScript, type LogCall } from '../sandbox/fixtures.ts';

/**
 * Issue 9, classes 5 (isolate side) and 7: only plain, bounded data leaves the isolate.
 * isolated-vm reads a thrown value (or an unhandled rejection's reason) itself, through its
 * getters and outside every limit: a value whose `message` and `stack` getters loop made the
 * sandbox process unstoppable. Errors are now read inside the isolate under a time limit and
 * capped; results the host cannot encode end the run RESULT.UNSERIALISABLE.
 *
 * One process with room for two runs, so a wedged isolate would show up as the next run (or
 * the bystander beside it) never finishing: those tests fail by timeout without the fix.
 */
function errorOf(outcome: SandboxOutcome, status = 'failed') {
  assert.equal(outcome.status, status, JSON.stringify(outcome).slice(0, 2000));
  if (outcome.status === 'succeeded') throw new Error('unreachable');
  return outcome.error;
}

const ROOMY = { timeoutMs: 60_000, cpuMs: 30_000 };
const LOOPING = '{ get message() { for (;;); }, get stack() { for (;;); }, get name() { for (;;); } }';

describe('what leaves the isolate', () => {
  let sandbox: SandboxHost;
  before(() => {
    sandbox = createIsolatedSandbox({ processes: 1, runsPerProcess: 2, logger: silentLogger(), abortGraceMs: 60_000 });
  });
  after(() => sandbox.close());

  it('fails a thrown value with looping getters (top level or not, Proxy or not) within its deadline, and the process carries on', async () => {
    const hostile = [
      `throw ${LOOPING};\nexport default async () => 1;`,
      `throw new Proxy({}, { get() { for (;;); } });\nexport default async () => 1;`,
      `export default async () => { throw ${LOOPING}; };`,
      `export default async (ctx) => { await ctx.sleep(1); throw new Proxy(new Error('x'), { get() { for (;;); } }); };`,
      `export default async () => { throw { message: { toString() { for (;;); } } }; };`,
      `export default async () => { Error.prepareStackTrace = () => { for (;;); }; throw new Error('formatted forever'); };`,
    ];
    for (const source of hostile) {
      // A bystander shares the process; it would never finish if the isolate thread wedged it.
      const bystander = runScript(sandbox, 'export default async (ctx) => { await ctx.sleep(50); return "fine"; }');
      const error = errorOf(await runScript(sandbox, source, { limits: ROOMY }));
      assert.equal(error.code, 'SCRIPT.ERROR', source);
      assert.match(error.message, /could not be read within \d+ ms/, source);
      assert.equal(resultOf(await bystander), 'fine');
    }
    assert.equal(resultOf(await runScript(sandbox, 'export default async () => "next"')), 'next');
  });

  it('ignores hostile unhandled rejections instead of letting isolated-vm read them', async () => {
    const outcome = await runScript(
      sandbox,
      `Promise.reject(${LOOPING});
       export default async (ctx) => {
         Promise.reject(new Proxy({}, { get() { for (;;); } }));
         (async () => { throw ${LOOPING}; })();
         await ctx.sleep(1);
         Promise.reject(${LOOPING});
         return 'done';
       };`,
      { limits: ROOMY },
    );
    assert.equal(resultOf(outcome), 'done');
  });

  it('caps error name, message and stack, and checks the code', async () => {
    const error = errorOf(
      await runScript(
        sandbox,
        `export default async () => {
          const e = new Error('m'.repeat(20_000_000));
          e.name = 'N'.repeat(5_000_000);
          Object.defineProperty(e, 'stack', { value: 'S'.repeat(30_000_000) });
          e.code = 'NOT A CODE'.repeat(100);
          throw e;
        }`,
        { limits: { ...ROOMY, memoryMb: 256 } },
      ),
    );
    assert.equal(error.code, 'SCRIPT.ERROR');
    // `<name>: <message>`, each cut at its cap and saying so; no code suffix for a bad code.
    assert.match(error.message, /^N{256} … \[truncated: 5000000 characters, limit 256\]: m{8192} … \[truncated: 20000000 characters, limit 8192\]$/);
    assert.match(error.stack ?? '', /^S{16384} … \[truncated: 30000000 characters, limit 16384\]$/);
    assert.ok(JSON.stringify(error).length < 30_000);

    const coded = errorOf(await runScript(sandbox, `export default async () => { throw Object.assign(new Error('denied'), { code: 'PERMISSION' }); }`));
    assert.equal(coded.message, 'denied [PERMISSION]');
  });

  it('caps what a thrown non-error value and a 200 MB top-level message become', async () => {
    const thrown = errorOf(await runScript(sandbox, `export default async () => { throw 'x'.repeat(50_000_000); }`, { limits: { ...ROOMY, memoryMb: 256 } }));
    assert.ok(thrown.message.length < 1000, `${thrown.message.length} characters`);
    const top = errorOf(
      await runScript(sandbox, `const big = 'y'.repeat(100_000_000);\nthrow new TypeError(big);\nexport default async () => 1;`, {
        limits: { ...ROOMY, memoryMb: 512 },
      }),
    );
    assert.match(top.message, /^TypeError: y+ … \[truncated: 100000000 characters, limit 8192\]$/);
  });

  it('ends a result the host cannot encode as RESULT.UNSERIALISABLE', async () => {
    const cases: Array<[string, RegExp]> = [
      ['let a = []; for (let i = 0; i < 100_000; i++) a = [a]; return a;', /nested deeper than 100 levels/],
      ['let o = {}; for (let i = 0; i < 101; i++) o = { o }; return o;', /nested deeper than 100 levels/],
      ['const a = {}; a.self = a; return a;', /circular/],
      ['return { n: 10n };', /BigInt/],
      ['return { toJSON() { throw new Error("no JSON for you"); } };', /no JSON for you/],
      ['return { get x() { throw { get message() { return "m".repeat(1e6); } }; } };', /^the script's result cannot be stored as JSON: m{1000} … \[truncated/],
    ];
    for (const [body, why] of cases) {
      const error = errorOf(await runScript(sandbox, `export default async () => { ${body} }`, { limits: ROOMY }));
      assert.equal(error.code, 'RESULT.UNSERIALISABLE', body);
      assert.match(error.message, why, body);
    }
    // 100 levels is still fine.
    const ok = resultOf(await runScript(sandbox, 'export default async () => { let a = 1; for (let i = 0; i < 99; i++) a = [a]; return a; }'));
    assert.ok(Array.isArray(ok));
  });

  it('drops log fields nested too deep, and caps log messages', async () => {
    const logs: LogCall[] = [];
    resultOf(
      await runScript(
        sandbox,
        `export default async (ctx) => {
          let f = {}; for (let i = 0; i < 5000; i++) f = { f };
          ctx.log.info('deep', f);
          ctx.log.info('z'.repeat(100_000));
          return 1;
        }`,
        { logs },
      ),
    );
    assert.deepEqual(logs[0], { level: 'info', message: 'deep', fields: { fieldsError: 'fields nested deeper than 100 levels were dropped' } });
    assert.ok(logs[1].message.length < 8192 + 100);
  });
});

describe('top-level await and top-level errors', () => {
  let sandbox: SandboxHost;
  before(() => {
    sandbox = createIsolatedSandbox({ processes: 1, runsPerProcess: 2, logger: silentLogger() });
  });
  after(() => sandbox.close());

  it('calls the default export only after the module finished evaluating', async () => {
    const result = resultOf(
      await runScript(
        sandbox,
        `export const order = [];
         export default async function () { order.push('main'); return order; }
         for (let i = 0; i < 3; i++) { await null; order.push('tla-' + i); }
         await new Promise((resolve) => resolve());
         order.push('loaded');`,
      ),
    );
    assert.deepEqual(result, ['tla-0', 'tla-1', 'tla-2', 'loaded', 'main']);
  });

  it('times out a module whose top-level await never settles', async () => {
    const error = errorOf(
      await runScript(sandbox, 'export default async function () { return "ran"; }\nawait new Promise(() => {});', { limits: { timeoutMs: 500 } }),
      'timed_out',
    );
    assert.equal(error.code, 'SANDBOX.TIMEOUT');
    assert.match(error.message, /top-level await never settled/);
  });

  it('still reports a top-level error with its message, line and column', async () => {
    const error = errorOf(
      await runScript(sandbox, 'export const a = 1;\nexport function helper() { return 2; }\nconst n = ctx.input;\nexport default async () => n;'),
    );
    assert.equal(error.message, 'ReferenceError: ctx is not defined');
    assert.equal(error.line, 3);
    assert.equal(error.column, 11);
    const first = errorOf(await runScript(sandbox, 'null.x; export default async () => 1;'));
    assert.match(first.message, /^TypeError: Cannot read properties of null/);
    assert.equal(first.line, 1);
    assert.equal(first.column, 6);
  });
});
