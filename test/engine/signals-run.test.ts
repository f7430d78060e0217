import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

/**
 * ctx.signals.take through the whole engine: what a run takes is settled when it ends — gone
 * when it succeeded, back in the inbox (at its old place) when it failed, timed out or is
 * retried — so a retried run never loses a promote nor applies it twice.
 */
describe('signals taken by runs', () => {
  let t: TestSystem;
  const wf = workflowCalls(() => t);
  before(async () => {
    t = await startTestSystem({ engine: true });
  });
  after(() => t.stop());

  /** Posts a signal through the API (the API is open: it is sent by `anonymous`). */
  const send = async (workflow: string, name: string, value: unknown = null, system: Pick<TestSystem, 'call'> = t) => {
    const r = await system.call('POST', `/api/v1/workflows/${workflow}/signals`, { name, value });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.signal as { id: string; sentAt: string; sentBy: string };
  };
  const pending = async (workflow: string) => (await t.call('GET', `/api/v1/workflows/${workflow}/signals`)).body.signals.map((s: { name: string }) => s.name);
  const runWith = async (name: string, input: unknown) => {
    const r = await t.call('POST', `/api/v1/workflows/${name}/runs?wait=true`, { input });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };
  const logOf = async (runId: string): Promise<string[]> =>
    (await t.call('GET', `/api/v1/runs/${runId}/logs`)).body.entries.map((e: { message: string }) => e.message);

  /** Takes `promote` (returning its id and value), then fails when asked to. */
  const TAKE_THEN_MAYBE_FAIL = `
    export default async function (ctx) {
      const s = await ctx.signals.take('promote');
      if (ctx.input?.fail) throw new Error('analysis failed after taking ' + (s?.id ?? 'nothing'));
      return s ? { id: s.id, value: s.value, sentBy: s.sentBy } : null;
    }`;

  it('a signal taken by a run that fails goes to the next run; one taken by a run that succeeds is gone', async () => {
    await wf.put('sig-fail', { script: TAKE_THEN_MAYBE_FAIL });
    const signal = await send('sig-fail', 'promote', { step: 3 });

    const failed = await runWith('sig-fail', { fail: true });
    assert.equal(failed.status, 'failed');
    assert.match(failed.error.message, new RegExp(`after taking ${signal.id}`));
    assert.deepEqual(await pending('sig-fail'), ['promote'], 'handed back to the inbox');
    const failedLog = await logOf(failed.id);
    assert.ok(failedLog.includes(`signal 'promote' taken (sent by anonymous at ${signal.sentAt})`), failedLog.join('\n'));
    assert.ok(
      failedLog.some((m) => m.startsWith('1 signal taken by this run handed back')),
      failedLog.join('\n'),
    );

    const succeeded = await runWith('sig-fail', {});
    assert.equal(succeeded.status, 'succeeded');
    assert.deepEqual(succeeded.result, { id: signal.id, value: { step: 3 }, sentBy: 'anonymous' }, 'the same signal, again');
    assert.deepEqual(await pending('sig-fail'), [], 'a succeeded run consumed it');

    assert.equal((await runWith('sig-fail', {})).result, null, 'and no later run sees it');
  });

  it('a run that times out hands its signal back', async () => {
    await wf.put('sig-timeout', {
      limits: { timeoutMs: 300, memoryMb: 64 },
      script: `export default async function (ctx) { await ctx.signals.take(); await ctx.sleep(60_000); }`,
    });
    await send('sig-timeout', 'promote');
    const run = await runWith('sig-timeout', {});
    assert.equal(run.status, 'timed_out');
    assert.deepEqual(await pending('sig-timeout'), ['promote']);
  });

  it('a cancelled run hands its signal back', async () => {
    await wf.put('sig-cancel', {
      script: `export default async function (ctx) { await ctx.signals.take(); await ctx.state.set('took', true); await ctx.sleep(60_000); }`,
    });
    await send('sig-cancel', 'abort');
    const started = await t.call('POST', '/api/v1/workflows/sig-cancel/runs', {});
    assert.equal(started.status, 201, JSON.stringify(started.body));
    await waitFor(async () => (await t.call('GET', '/api/v1/workflows/sig-cancel/state')).body.state.took === true, { what: 'the run to take the signal' });
    assert.deepEqual(await pending('sig-cancel'), [], 'held by the run meanwhile');
    const cancel = await t.call('POST', `/api/v1/runs/${started.body.id}/cancel`, {});
    assert.ok(cancel.status < 300, JSON.stringify(cancel.body));
    const run = await wf.finished(started.body.id);
    assert.equal(run.status, 'cancelled');
    await waitFor(async () => (await pending('sig-cancel')).length === 1, { what: 'the signal back in the inbox' });
  });

  it('a retried attempt sees the signal the failed attempt took', async () => {
    await wf.put('sig-retry', {
      retries: { attempts: 2, backoffMs: 10 },
      script: `
        export default async function (ctx) {
          const s = await ctx.signals.take('promote');
          if (ctx.run.attempt === 1) throw new Error('first attempt fails');
          return { attempt: ctx.run.attempt, id: s?.id ?? null };
        }`,
    });
    const signal = await send('sig-retry', 'promote');
    const run = await runWith('sig-retry', {});
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.result, { attempt: 2, id: signal.id });
    assert.deepEqual(await pending('sig-retry'), []);
  });

  it('take(name) takes the oldest signal of that name; take() the oldest of any', async () => {
    await wf.put('sig-order', {
      script: `
        export default async function (ctx) {
          const seen = [];
          for (const name of ['b', undefined, undefined, undefined]) {
            const s = await ctx.signals.take(name);
            seen.push(s ? s.name + '=' + s.value : null);
          }
          return seen;
        }`,
    });
    await send('sig-order', 'a', 1);
    await send('sig-order', 'b', 2);
    await send('sig-order', 'a', 3);
    const run = await runWith('sig-order', {});
    assert.deepEqual(run.result, ['b=2', 'a=1', 'a=3', null]);
  });

  it('a signal name that cannot exist is refused naming the argument', async () => {
    await wf.put('sig-bad-name', {
      script: `export default async function (ctx) { try { await ctx.signals.take('Promote Now'); return 'taken'; } catch (e) { return { code: e.code, message: e.message }; } }`,
    });
    const run = await runWith('sig-bad-name', {});
    assert.equal(run.status, 'succeeded');
    assert.equal(run.result.code, 'VALIDATION');
    assert.match(run.result.message, /name: must be 1-63 lowercase/);
  });

  it('an attempt resuming one interrupted by an engine crash first hands back what that one took; the attempt carries its engine', async () => {
    // An API-only system queues the run; its first attempt "ran" on an engine that died after taking the signal.
    const api = await startTestSystem({ engine: false, redis: t.redis });
    try {
      const calls = workflowCalls(() => api);
      await calls.put('sig-crash', { script: TAKE_THEN_MAYBE_FAIL });
      const signal = await send('sig-crash', 'promote', 'go', api);
      const started = await api.system.stores.launcher.start('sig-crash', { trigger: { type: 'manual' } });
      assert.ok(started.started);
      const runId = started.run.id;
      assert.equal((await api.system.stores.signals.take('sig-crash', runId, 'promote'))?.id, signal.id);
      assert.ok(await api.system.stores.runs.transition(runId, ['queued'], { status: 'running', attempts: 1, engineId: 'dead-engine' }));

      const engine = await startTestSystem({ engine: true, redis: t.redis, env: { VEER_REDIS_PREFIX: api.env.VEER_REDIS_PREFIX } });
      try {
        const run = await calls.finished(runId);
        assert.equal(run.status, 'succeeded');
        assert.equal(run.attempts, 2);
        assert.deepEqual(run.result, { id: signal.id, value: 'go', sentBy: 'anonymous' });
        assert.equal((await engine.system.stores.runs.get(runId))?.engineId, engine.engine?.id);
        const log = await engine.system.stores.runs.readLog(runId);
        assert.ok(
          log.some((e) => e.message.startsWith('1 signal taken by this run handed back')),
          log.map((e) => e.message).join('\n'),
        );
        assert.deepEqual((await api.call('GET', '/api/v1/workflows/sig-crash/signals')).body.signals, []);
      } finally {
        await engine.stop();
      }
    } finally {
      await api.stop();
    }
  });
});
