import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp } from '../../api/app.ts';
import { createWorkflowRoutes } from '../../api/routes/workflows.ts';
import { createScriptCompiler, type ScriptCompiler } from '../../engine/sandbox/script-compiler.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/**
 * Class 6 of the trust issue, the host's side: whatever an upload does to the compile worker
 * (hangs it, kills it, exhausts its heap), that upload gets a 400 naming `script` and the
 * next upload compiles in a fresh worker. A misbehaving worker (compile-misbehaving-worker.ts)
 * stands in for uploads that would do this to the real one; the API is the real one.
 */
describe('a compile worker that hangs, dies or runs out of memory', () => {
  let t: TestSystem;
  let compiler: ScriptCompiler;
  let app: OpenAPIHono;

  before(async () => {
    t = await startTestSystem({ engine: false });
    compiler = createScriptCompiler({ workerUrl: new URL('./compile-misbehaving-worker.ts', import.meta.url), timeoutMs: 2000, heapMb: 64 });
    app = createApp({ logger: silentLogger(), tokens: [], routers: [createWorkflowRoutes({ workflows: t.system.stores.workflows, compiler })] });
  });
  after(async () => {
    await compiler.close();
    await t.stop();
  });

  const put = async (name: string, script: string) => {
    const res = await app.request(`/api/v1/workflows/${name}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ script }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const normal = 'export default async (ctx: { input: number }) => ctx.input + 1;';

  for (const [cue, why] of [
    ['hang', /longer than 2000 ms to compile/],
    ['exit', /stopped while compiling/],
    ['throw', /crashed on this script/],
    ['oom', /ran out of memory/],
  ] as const) {
    it(`${cue}: the upload is a 400 naming script, and the next upload compiles`, async () => {
      const bad = await put(`bad-${cue}`, `// ${cue}\nexport default async () => 1;`);
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.equal(bad.body.code, 'VALIDATION');
      const issue = bad.body.details.issues[0];
      assert.deepEqual([issue.path, issue.line, issue.column], ['script', 1, 1]);
      assert.match(issue.message, why);
      const next = await put(`after-${cue}`, normal);
      assert.equal(next.status, 200, JSON.stringify(next.body));
      assert.equal((await t.system.stores.workflows.get(`after-${cue}`))?.compiled.length, normal.length);
    });
  }

  it('closing the compiler ends compiles queued or in flight, and a later compile starts a new worker', async () => {
    const own = createScriptCompiler({ workerUrl: new URL('./compile-misbehaving-worker.ts', import.meta.url), timeoutMs: 60_000 });
    const closed = (err: { code?: string }) => err.code === 'SANDBOX.CLOSED';
    const queued = own.compile('// hang\nexport default 1;');
    await own.close();
    await assert.rejects(queued, closed);
    // Nothing but close() ends this one before its 60 s limit.
    const inFlight = own.compile('// hang\nexport default 1;');
    await new Promise((r) => setImmediate(r));
    await own.close();
    await assert.rejects(inFlight, closed);
    assert.equal((await own.compile(normal)).length, normal.length);
    await own.close();
  });

  it('uploads sent while a compile hangs wait their turn and then compile', async () => {
    const [hung, ...rest] = await Promise.all([put('hung', '// hang\nexport default 1;'), put('queued-1', normal), put('queued-2', 'export default 1 +;')]);
    assert.equal(hung.status, 400);
    assert.equal(rest[0].status, 200);
    assert.equal(rest[1].status, 400);
    assert.match(rest[1].body.message, /script: line 1, column 19: Expression expected/);
  });
});
