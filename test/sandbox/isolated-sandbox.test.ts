import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createIsolatedSandbox } from '../../engine/sandbox/isolated-host.ts';
import type { SandboxHost } from '../../engine/ports/sandbox-host.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { resultOf, runScript, type LogCall } from './fixtures.ts';

describe('isolated sandbox: scripts, ctx, capabilities', () => {
  let sandbox: SandboxHost;
  before(() => {
    sandbox = createIsolatedSandbox({ processes: 2, runsPerProcess: 2, logger: silentLogger() });
  });
  after(() => sandbox.close());

  it('returns the default export’s result as a JSON copy (functions and undefined dropped)', async () => {
    const outcome = await runScript(
      sandbox,
      `
      export default async function (ctx) {
        return { n: 1, s: 'two', list: [1, undefined, () => 3], nested: { ok: true, fn() {} }, when: new Date(0) };
      }`,
    );
    assert.deepEqual(resultOf(outcome), { n: 1, s: 'two', list: [1, null, null], nested: { ok: true }, when: '1970-01-01T00:00:00.000Z' });
  });

  it('gives null for an undefined result, and plain values through', async () => {
    assert.equal(resultOf(await runScript(sandbox, 'export default async () => {}')), null);
    assert.equal(resultOf(await runScript(sandbox, 'export default async () => "done"')), 'done');
    assert.equal(resultOf(await runScript(sandbox, 'export default () => 7')), 7);
  });

  it('forwards ctx.log and console to the run log, in order, with fields', async () => {
    const logs: LogCall[] = [];
    const outcome = await runScript(
      sandbox,
      `
      export default async function (ctx) {
        ctx.log.debug('d');
        ctx.log.info('shifting', { weight: 10, to: 'v2' });
        ctx.log.warn('careful');
        ctx.log.error('bad', 'not-an-object');
        console.log('console', 1, { a: [1, 2] });
        console.info('i');
        console.warn('w');
        console.error(new Error('oops'));
        console.debug('dbg');
      }`,
      { logs },
    );
    resultOf(outcome);
    assert.deepEqual(logs.slice(0, 4), [
      { level: 'debug', message: 'd' },
      { level: 'info', message: 'shifting', fields: { weight: 10, to: 'v2' } },
      { level: 'warn', message: 'careful' },
      { level: 'error', message: 'bad', fields: { value: 'not-an-object' } },
    ]);
    assert.deepEqual(logs[4], { level: 'info', message: 'console 1 {"a":[1,2]}' });
    assert.deepEqual(logs.slice(5, 7), [
      { level: 'info', message: 'i' },
      { level: 'warn', message: 'w' },
    ]);
    assert.equal(logs[7].level, 'error');
    assert.match(logs[7].message, /^Error: oops\n\s+at /);
    assert.deepEqual(logs[8], { level: 'debug', message: 'dbg' });
  });

  it('gives the script copies of input, env, workflow and run', async () => {
    const input = { canary: 'v2', steps: [10, 50, 100] };
    const outcome = await runScript(
      sandbox,
      `
      export default async function (ctx) {
        ctx.input.steps.push(999);
        return { input: ctx.input, env: ctx.env, workflow: ctx.workflow, run: ctx.run };
      }`,
      { input },
    );
    assert.deepEqual(resultOf(outcome), {
      input: { canary: 'v2', steps: [10, 50, 100, 999] },
      env: { REGION: 'eu-west-1', FLAG: true },
      workflow: { name: 'canary', version: 3 },
      run: { id: 'run-1', attempt: 1, trigger: { type: 'manual' } },
    });
    assert.deepEqual(input.steps, [10, 50, 100], 'the caller’s input is not shared with the script');
  });

  it('calls capabilities with the run scope and copied arguments, and copies results back', async () => {
    const calls: unknown[][] = [];
    const store = new Map<string, unknown>();
    const outcome = await runScript(
      sandbox,
      `
      export default async function (ctx) {
        await ctx.state.set('weights', { v1: 90, v2: 10 });
        const got = await ctx.state.get('weights');
        got.v1 = 0;
        const again = await ctx.state.get('weights');
        const missing = await ctx.state.get('nope');
        await ctx.state.delete('weights');
        return { got, again, missing, after: await ctx.state.get('weights') };
      }`,
      {
        capabilities: {
          state: {
            get: async (scope, key) => {
              calls.push(['get', scope.runId, key]);
              return store.get(String(key));
            },
            set: async (scope, key, value) => {
              calls.push(['set', scope.runId, key, value]);
              store.set(String(key), value);
            },
            delete: async (scope, key) => {
              calls.push(['delete', scope.runId, key]);
              store.delete(String(key));
            },
          },
        },
      },
    );
    assert.deepEqual(resultOf(outcome), { got: { v1: 0, v2: 10 }, again: { v1: 90, v2: 10 } }, 'undefined results are omitted like JSON.stringify does');
    // Arguments arrive as null-prototype plain data: compare values, not prototypes.
    assert.deepEqual(JSON.parse(JSON.stringify(calls[0])), ['set', 'run-1', 'weights', { v1: 90, v2: 10 }]);
    assert.deepEqual(
      calls.map((c) => c[0]),
      ['set', 'get', 'get', 'get', 'delete', 'get'],
    );
  });

  it('turns a host error into an Error in the script with the host’s message and code', async () => {
    const outcome = await runScript(
      sandbox,
      `
      export default async function (ctx) {
        try {
          await ctx.gateways.setWeights('shop', { v1: 50 });
          return 'no error';
        } catch (e) {
          return { isError: e instanceof Error, message: e.message, code: e.code, name: e.name };
        }
      }`,
      {
        capabilities: {
          gateways: {
            setWeights: async () => {
              throw Object.assign(new Error("gateway 'shop' is not in this workflow's permissions.gateways"), { code: 'PERMISSION' });
            },
          },
        },
      },
    );
    assert.deepEqual(resultOf(outcome), {
      isError: true,
      message: "gateway 'shop' is not in this workflow's permissions.gateways",
      code: 'PERMISSION',
      name: 'Error',
    });
  });

  it('fails the run with the host’s message when the script does not catch a host error', async () => {
    const outcome = await runScript(
      sandbox,
      `
export default async function (ctx) {
  await ctx.state.get('x');
}`,
      {
        capabilities: {
          state: {
            get: async () => {
              throw new Error('KV store etcd unavailable');
            },
          },
        },
      },
    );
    assert.equal(outcome.status, 'failed');
    assert.ok(outcome.status === 'failed');
    assert.equal(outcome.error.code, 'SCRIPT.ERROR');
    assert.match(outcome.error.message, /KV store etcd unavailable/);
    assert.equal(outcome.error.line, 3);
  });

  it('runs host calls concurrently (several in flight at once)', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let release!: () => void;
    const allIn = new Promise<void>((r) => {
      release = r;
    });
    const outcome = await runScript(
      sandbox,
      `
      export default async function (ctx) {
        return Promise.all([ctx.slow.echo(1), ctx.slow.echo(2), ctx.slow.echo(3)]);
      }`,
      {
        capabilities: {
          slow: {
            // Each call waits until all three have arrived: serialised calls would never finish.
            echo: async (_scope, n) => {
              inFlight++;
              maxInFlight = Math.max(maxInFlight, inFlight);
              if (inFlight === 3) release();
              await allIn;
              inFlight--;
              return n;
            },
          },
        },
      },
    );
    assert.deepEqual(resultOf(outcome), [1, 2, 3]);
    assert.equal(maxInFlight, 3);
  });

  it('ctx.sleep waits on a host timer', async () => {
    const outcome = await runScript(
      sandbox,
      `
      export default async function (ctx) {
        const t = Date.now();
        await ctx.sleep(30);
        return Date.now() - t >= 25;
      }`,
    );
    assert.equal(resultOf(outcome), true);
  });

  it('runs TypeScript, and reports a thrown error at the ORIGINAL line and column with a user-only stack', async () => {
    const source = [
      'interface Weights { [name: string]: number }',
      'type Ctx = { input: { fail: boolean } };',
      '',
      'function check(w: Weights): number {',
      '  const total: number = Object.values(w).reduce((a: number, b: number) => a + b, 0);',
      '  if (total !== 100) throw new RangeError(`weights add up to ${total}`);',
      '  return total;',
      '}',
      '',
      'export default async function (ctx: Ctx): Promise<number> {',
      '  return check(ctx.input.fail ? { a: 1 } : { a: 40, b: 60 } as Weights);',
      '}',
    ].join('\n');
    assert.equal(resultOf(await runScript(sandbox, source, { input: { fail: false } })), 100);
    const outcome = await runScript(sandbox, source, { input: { fail: true } });
    assert.ok(outcome.status === 'failed');
    assert.equal(outcome.error.code, 'SCRIPT.ERROR');
    assert.equal(outcome.error.message, 'RangeError: weights add up to 1');
    assert.equal(outcome.error.line, 6);
    assert.equal(outcome.error.column, 28);
    const stack = outcome.error.stack ?? '';
    assert.match(stack, /^RangeError: weights add up to 1\n\s+at check \(script:6:28\)\n\s+at default \(script:11:10\)$/);
  });

  it('reports a top-level throw and a rejected promise with positions', async () => {
    const top = await runScript(sandbox, 'const x = 1;\nthrow new TypeError("at load " + x);\nexport default async () => 1;');
    assert.ok(top.status === 'failed');
    assert.equal(top.error.code, 'SCRIPT.ERROR');
    assert.equal(top.error.message, 'TypeError: at load 1');
    assert.deepEqual([top.error.line, top.error.column], [2, 7]);

    const rejected = await runScript(sandbox, 'export default async () => {\n  await null;\n  return Promise.reject(new Error("later"));\n};');
    assert.ok(rejected.status === 'failed');
    assert.equal(rejected.error.message, 'later');
    assert.deepEqual([rejected.error.line, rejected.error.column], [3, 25]);

    const thrownString = await runScript(sandbox, 'export default async () => { throw "plain string"; };');
    assert.ok(thrownString.status === 'failed');
    assert.equal(thrownString.error.code, 'SCRIPT.ERROR');
    assert.match(thrownString.error.message, /plain string/);
  });

  it('refuses a module without a callable default export with SCRIPT.INVALID', async () => {
    const none = await runScript(sandbox, 'export const main = async () => 1;', { raw: true });
    assert.ok(none.status === 'failed');
    assert.equal(none.error.code, 'SCRIPT.INVALID');
    assert.match(none.error.message, /no default export/);
    const notFn = await runScript(sandbox, 'export default 42;');
    assert.ok(notFn.status === 'failed');
    assert.equal(notFn.error.code, 'SCRIPT.INVALID');
    assert.match(notFn.error.message, /default export is number, not a function/);
    const syntax = await runScript(sandbox, 'export default async () => {\n  let = ;\n}', { raw: true });
    assert.ok(syntax.status === 'failed');
    assert.equal(syntax.error.code, 'SCRIPT.INVALID');
    assert.equal(syntax.error.line, 2);
  });

  it('runs many scripts at once across the pool, each in its own isolate', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        runScript(
          sandbox,
          'globalThis.seen = (globalThis.seen ?? 0) + 1;\nexport default async (ctx) => { await ctx.sleep(5); return [ctx.input, globalThis.seen]; };',
          { input: i },
        ),
      ),
    );
    assert.deepEqual(
      outcomes.map(resultOf),
      Array.from({ length: 12 }, (_, i) => [i, 1]),
    );
  });
});
